/**
 * The `cdk.json` keys of issue 22's cross-account options, validated with zod: `crossAccountRoutes`
 * (routes to targets in other accounts or regions, infra/cross-account-route.ts), and
 * `consumerAccounts` / `consumerOrganizationId` (accounts that manage their own rules on the bus,
 * infra/consumer-accounts.ts). With `-c`, a list is its JSON text (routes) or comma-separated
 * (accounts); and `globalEndpoint` (an EventBridge global endpoint, infra/global-endpoint.ts), a
 * JSON object.
 *
 * @example
 * ```sh
 * npx cdk deploy -c crossAccountRoutes='[{"id":"Search","targetArn":"arn:aws:sqs:eu-west-1:222222222222:search"}]' \
 *   -c consumerAccounts=222222222222,333333333333
 * ```
 */
import { z } from 'zod';
import { CAUSES, EVENT_TYPES, type EventType } from '../functions/notifier/contract/index.js';

const jsonText = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v; // reported by the schema as "expected array"
  }
};
const strings = z.union([z.array(z.string()), z.string()]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

/** One cross-account route of the bundled stack. */
export const CrossAccountRouteContextSchema = z.strictObject({
  /** Route id (construct id, alarm names): letters and digits. */
  id: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,39}$/, 'must be letters and digits, starting with a letter (at most 40)'),
  /** The target's ARN (SQS queue, SNS topic, Lambda function in this region; event bus anywhere). */
  targetArn: z.string().startsWith('arn:', 'must be an ARN'),
  /** The customer-managed key of the target queue or topic, if it has one. */
  targetKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key\/.+$/, 'must be a KMS key ARN').optional(),
  detailTypes: z.array(z.enum(EVENT_TYPES as [EventType, ...EventType[]])).min(1).optional(),
  changedFields: z.array(z.string().min(1)).min(1).optional(),
  causes: z.array(z.enum(CAUSES)).min(1).optional(),
  origins: z.array(z.enum(['stream', 'resync'])).min(1).optional(),
  readsFields: z.array(z.string().min(1)).optional(),
});

export const CrossAccountRoutesContextSchema = z.preprocess(jsonText, z.array(CrossAccountRouteContextSchema)).superRefine((routes, ctx) => {
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `route id '${r.id}' is used twice` });
    seen.add(r.id);
  });
});

/** Account ids allowed to manage their own rules on the bus. */
export const ConsumerAccountsContextSchema = strings.pipe(z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit account id')).min(1));

/** An AWS Organizations id (`o-` and 10 to 32 lowercase letters or digits). */
export const OrganizationIdSchema = z.string().regex(/^o-[a-z0-9]{10,32}$/, 'must be an AWS Organizations id (o-xxxxxxxxxx)');

/** The `globalEndpoint` key: the secondary region and, optionally, a health check of your own (infra/global-endpoint.ts). */
export const GlobalEndpointContextSchema = z.preprocess(
  jsonText,
  z.strictObject({
    secondaryRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region name (e.g. us-east-1)'),
    healthCheckArn: z.string().regex(/^arn:aws([a-z]|-)*:route53:::healthcheck\/[-a-z0-9]+$/, 'must be a Route 53 health check ARN').optional(),
    endpointName: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/, 'must be 1-64 of A-Za-z0-9._-').optional(),
  }),
);

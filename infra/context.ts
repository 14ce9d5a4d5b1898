/**
 * The bundled app's configuration: the `context` block of `cdk.json` (overridable with
 * `npx cdk synth -c key=value`), validated with zod. Values given with `-c` arrive as strings,
 * so numbers and booleans are coerced. An unknown key is an error, so a typo cannot silently
 * fall back to a default.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_EVENT_SOURCE, DEFAULT_PUBLISHER_HOST, DEFAULT_PUT_EVENTS_CONCURRENCY, MIN_FUNCTION_TIMEOUT_SECONDS } from '../functions/notifier/config.js';
import { ComputeNodePayload, SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';
import { COMPUTE_NODE_TABLE } from '../functions/compute-node-table-definition.js';
import { AmqpBridgeContextSchema } from './amqp-bridge-context.js';
import { ConsumerAccountsContextSchema, CrossAccountRoutesContextSchema, GlobalEndpointContextSchema, OrganizationIdSchema } from './cross-account-context.js';

const RETENTION_DAYS = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalText = z.string().trim().min(1).optional();
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);
/** A list given as a JSON array or as a comma-separated string (the form `-c` allows). */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

export const STREAM_VIEW_TYPES = ['NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY'] as const;

export const AppContextSchema = z
  .strictObject({
    /** CloudFormation stack name. */
    stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/).default('HypervisorNotifications'),
    /** Target account and region; both unset = an environment-agnostic stack. */
    account: z.string().regex(/^\d{12}$/).optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),

    /** Physical name of the new table (ignored with an existing table). */
    tableName: optionalText,
    timeToLiveAttribute: z.string().min(1).default(COMPUTE_NODE_TABLE.timeToLiveAttribute),
    /** DynamoDB deletion protection on the new table: off for the first deploy, on from a second one (README, "Deploy"). */
    tableDeletionProtection: bool.default(false),
    /** An existing table: its name and stream ARN (both), optionally its stream view type and KMS key. */
    existingTableName: optionalText,
    existingTableStreamArn: z.string().regex(/^arn:aws[a-z-]*:dynamodb:[^:]+:\d{12}:table\/[^/]+\/stream\/.+$/, 'must be a DynamoDB stream ARN').optional(),
    existingTableStreamViewType: z.enum(STREAM_VIEW_TYPES).optional(),
    existingTableKmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:/, 'must be a KMS key ARN').optional(),

    /** An existing event bus, by name or ARN; unset = a new bus. */
    existingEventBus: optionalText,
    /** Name of the new bus. */
    eventBusName: optionalText,
    /** Archive the notifications for replay (not every region has EventBridge archives: infra/regions.ts). */
    archive: bool.default(true),
    archiveRetentionDays: int(0, 36500).default(90),
    /** Publish the schemas in an EventBridge schema registry (not every region has one: infra/regions.ts). */
    schemaRegistry: bool.default(true),

    eventSource: z.string().min(1).default(DEFAULT_EVENT_SOURCE),
    // Checked here, so a bad name is reported as this key (not later, as the function's WATCHED_FIELDS).
    watchedFields: list
      .superRefine((names, ctx) => {
        const known = Object.keys(ComputeNodePayload.fields);
        for (const name of names.filter((n) => !known.includes(n))) ctx.addIssue({ code: 'custom', message: `unknown field '${name}' (a watched field must be one of: ${known.join(', ')})` });
      })
      .default([...SPEC_WATCHED_FIELDS]),
    publisherHostFallback: z.string().min(1).default(DEFAULT_PUBLISHER_HOST),
    putEventsConcurrency: int(1, 64).default(DEFAULT_PUT_EVENTS_CONCURRENCY),
    /** Notify only one region's writes (global tables): the attribute writers mark their region in (docs/cross-account.md). */
    writerRegionAttribute: optionalText,
    /** The region whose writes are notified with writerRegionAttribute (default: the function's own). */
    notifyWriterRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region name (e.g. eu-west-1)').optional(),

    logRetentionDays: z.coerce
      .number()
      .refine((n) => RETENTION_DAYS.includes(n), `must be one of CloudWatch Logs' retention values: ${RETENTION_DAYS.join(', ')}`)
      .default(30),
    memorySize: int(128, 10240).default(512),
    timeoutSeconds: int(MIN_FUNCTION_TIMEOUT_SECONDS, 900).default(60),

    batchSize: int(1, 10000).default(100),
    maxBatchingWindowSeconds: int(0, 300).default(1),
    parallelizationFactor: int(1, 10).default(1),
    retryAttempts: int(0, 10000).default(20),
    maxRecordAgeSeconds: int(60, 604800).default(21600),
    onFailureRetentionDays: int(1, 36500).default(90),
    /** Redrive the batches Lambda gives up on automatically (S3 notification → queue → redrive function). */
    redrive: bool.default(true),
    /** Hours after which an on-failure object not yet redriven raises the alarm (5 min – 7 days). */
    redriveStaleAfterHours: z.coerce.number().min(1 / 12).max(168).default(6),
    /** Active X-Ray tracing of the notifier, the redrive and the reference indexer, trace header on each PutEvents entry (costs X-Ray traces). */
    tracing: bool.default(false),
    /** Source-mapped stack traces in every function's logs (costs about 50 ms a cold start: `npm run bench` §5). */
    sourceMaps: bool.default(false),

    alarmTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:/, 'must be an SNS topic ARN').optional(),
    alarmEmail: z.string().email().optional(),
    iteratorAgeAlarmSeconds: int(1, 86400).default(300),
    /** Minutes between heartbeat writes (infra/heartbeat.ts); 0 turns the heartbeat and its stalled alarm off. */
    heartbeatIntervalMinutes: int(0, 60).default(1),
    /** Minutes without a published heartbeat before the "pipeline stalled" alarm fires (at least twice the interval; default the larger of 5 and that). */
    heartbeatStalledAfterMinutes: int(2, 1440).optional(),
    /** Compute nodes the deployment expects: synth warns near a default EventBridge quota of the region (docs/capacity.md). */
    expectedComputeNodes: int(1, 1_000_000_000).optional(),
    /** Stream records that become notifications, for that warning (default 1, every report). */
    expectedNotifiedFraction: z.coerce.number().gt(0).max(1).optional(),

    /** Add the example indexer route (updates whose running_vms changed). */
    exampleRoute: bool.default(true),
    /** Add the resync function (operators invoke it to refresh every live node through the stream). */
    resyncFunction: bool.default(true),
    /** Resync marker writes per second (each one UpdateItem on the table and one notification). */
    resyncWritesPerSecond: z.coerce.number().gt(0).max(40000).default(100),
    /** Add the reference indexer (its route, read-model table and function). */
    referenceIndexer: bool.default(true),
    /** Routes to targets in other accounts or regions, a JSON array (infra/cross-account-context.ts, docs/cross-account.md). */
    crossAccountRoutes: CrossAccountRoutesContextSchema.optional(),
    /** Accounts that may manage their own rules on the bus and read the schema registry (docs/cross-account.md). */
    consumerAccounts: ConsumerAccountsContextSchema.optional(),
    /** The same for every account of an AWS Organizations organization (o-…); not with consumerAccounts. */
    consumerOrganizationId: OrganizationIdSchema.optional(),
    /** An EventBridge global endpoint: {"secondaryRegion": "...", "healthCheckArn"?: "..."} (needs eventBusName; docs/cross-account.md). */
    globalEndpoint: GlobalEndpointContextSchema.optional(),
    /** The AMQP bridge to an oslo.messaging broker (infra/amqp-bridge-context.ts); unset or null = none. */
    amqpBridge: AmqpBridgeContextSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const existing = [c.existingTableName, c.existingTableStreamArn].filter((v) => v !== undefined).length;
    if (existing === 1) {
      ctx.addIssue({ code: 'custom', path: ['existingTableStreamArn'], message: 'an existing table needs both existingTableName and existingTableStreamArn' });
    }
    if (existing === 0 && (c.existingTableStreamViewType !== undefined || c.existingTableKmsKeyArn !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['existingTableName'], message: 'existingTableStreamViewType / existingTableKmsKeyArn given without an existing table' });
    }
    if (existing === 2 && c.tableName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tableName'], message: 'tableName names a new table; with an existing table use existingTableName only' });
    }
    if (c.existingEventBus !== undefined && c.eventBusName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['eventBusName'], message: 'eventBusName names a new bus; with an existing bus use existingEventBus only' });
    }
    if ((c.account === undefined) !== (c.region === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: 'set both account and region, or neither (environment-agnostic stack)' });
    }
  });

export type AppContext = z.infer<typeof AppContextSchema>;

/** Keys of the context block that belong to the CDK itself (feature flags, CLI internals, lookups). */
function isCdkKey(key: string): boolean {
  return key.startsWith('@') || key.includes(':') || key === 'cli-telemetry' || key === 'acknowledged-issue-numbers';
}

/** Where a context value came from: cdk.json when it holds that very value, else `-c` (the CLI merges the two). */
function contextSource(key: string, value: unknown): 'cdk.json' | '-c' {
  try {
    const file = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: Record<string, unknown> };
    return file.context !== undefined && key in file.context && JSON.stringify(file.context[key]) === JSON.stringify(value) ? 'cdk.json' : '-c';
  } catch {
    return '-c';
  }
}

/** A value as the user wrote it: `-c key=value` as typed, a cdk.json value as JSON. */
function asWritten(key: string, value: unknown): string {
  return contextSource(key, value) === '-c'
    ? `-c ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`
    : `cdk.json "${key}": ${JSON.stringify(value)}`;
}

/** zod's message in the user's words: a value that is no number says so, not "received NaN". */
function rule(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' && issue.expected === 'number' ? 'must be a number' : issue.message;
}

/** Thrown for invalid context (cdk.json or -c); the message lists every problem, each with the key as written. */
export class AppContextError extends Error {
  override readonly name = 'AppContextError';
}

/** Validates the app's context (all keys of `node.getAllContext()`). */
export function parseAppContext(context: Record<string, unknown>): AppContext {
  const ours = Object.fromEntries(Object.entries(context).filter(([k, v]) => !isCdkKey(k) && v !== null && v !== ''));
  const parsed = AppContextSchema.safeParse(ours);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => {
        if (i.code === 'unrecognized_keys') return `unknown context key(s) ${i.keys.join(', ')}`;
        const key = String(i.path[0] ?? '');
        return `${i.path.join('.') || '(context)'}: ${rule(i)}${key in ours ? ` (${asWritten(key, ours[key])})` : ''}`;
      })
      .join('; ');
    throw new AppContextError(`invalid context: ${detail}`);
  }
  return parsed.data;
}

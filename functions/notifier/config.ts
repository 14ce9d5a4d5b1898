/**
 * The notifier's configuration: environment variables, validated once at start-up.
 * The CLI reads the same variables (each also settable by a flag) so `render` shows
 * exactly what the deployed function would send.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env); // throws ConfigurationError naming the bad variable
 * ```
 */
import * as z from 'zod/mini';
import './zod-messages.js';
import { ComputeNodePayload, SPEC_WATCHED_FIELDS, type ComputeNodeField } from './contract/index.js';
import { ConfigurationError } from './errors.js';
import { resolutionProblem, type FieldResolutions } from './field-resolution.js';
import type { WriterRegion } from './writer-region.js';

/** Environment variable names, shared with the CDK construct that sets them. */
export const ENV = {
  eventBusName: 'EVENT_BUS_NAME',
  eventSource: 'EVENT_SOURCE',
  watchedFields: 'WATCHED_FIELDS',
  watchedFieldResolutions: 'WATCHED_FIELD_RESOLUTIONS',
  publisherHostFallback: 'PUBLISHER_HOST_FALLBACK',
  quarantineQueueUrl: 'QUARANTINE_QUEUE_URL',
  quarantineBucket: 'QUARANTINE_BUCKET',
  putEventsConcurrency: 'PUT_EVENTS_CONCURRENCY',
  globalEndpointId: 'GLOBAL_ENDPOINT_ID',
  writerRegionAttribute: 'WRITER_REGION_ATTRIBUTE',
  notifyWriterRegion: 'NOTIFY_WRITER_REGION',
} as const;

export const DEFAULT_EVENT_SOURCE = 'openstack.nova';

/**
 * The shortest function timeout the stack accepts: the notifier keeps back max(1 s, 20 %) of an
 * invocation to quarantine and answer (notifier.ts), so with 1 s or less it would publish nothing
 * and hand every record back to Lambda on every try.
 */
export const MIN_FUNCTION_TIMEOUT_SECONDS = 3;
export const DEFAULT_PUBLISHER_HOST = 'hypervisor-notifier';
export const DEFAULT_PUT_EVENTS_CONCURRENCY = 4;

const KNOWN_FIELDS = Object.keys(ComputeNodePayload.fields);

const watchedFields = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const name of names) {
      if (!KNOWN_FIELDS.includes(name)) {
        ctx.issues.push({ code: 'custom', input: text, message: `unknown field '${name}' (a watched field must be one of: ${KNOWN_FIELDS.join(', ')})` });
      }
    }
    if (names.length === 0) ctx.issues.push({ code: 'custom', input: text, message: 'names no field' });
    // Payload order, so `changed_fields` is stable whatever order the list was written in.
    return KNOWN_FIELDS.filter((f) => names.includes(f)) as ComputeNodeField[];
  }),
);

/** `field=resolution,...`: each field an integer payload field, each resolution a whole number ≥ 1 (field-resolution.ts). */
const watchedFieldResolutions = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const resolutions: Partial<Record<ComputeNodeField, number>> = {};
    for (const pair of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const match = /^([a-z_]+)\s*=\s*(\S+)$/.exec(pair);
      if (match === null) {
        ctx.issues.push({ code: 'custom', input: text, message: `'${pair}' is not field=resolution` });
        continue;
      }
      const [, field, value] = match as unknown as [string, string, string];
      const resolution = /^\d+$/.test(value) ? Number(value) : value;
      const problem = KNOWN_FIELDS.includes(field) ? resolutionProblem(field, resolution) : `unknown field '${field}'`;
      if (problem !== undefined) ctx.issues.push({ code: 'custom', input: text, message: problem });
      else if (resolutions[field as ComputeNodeField] !== undefined) ctx.issues.push({ code: 'custom', input: text, message: `'${field}' is given twice` });
      else resolutions[field as ComputeNodeField] = resolution as number;
    }
    return resolutions as FieldResolutions;
  }),
);

/** An AWS region's name (`eu-west-1`, `us-gov-west-1`). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const text = (max = 256) => z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

const ConfigSchema = z.object({
  [ENV.eventBusName]: z._default(text(1600), 'default'),
  [ENV.eventSource]: z._default(
    text().check(z.refine((s) => !s.startsWith('aws.'), 'must not start with "aws." (reserved for AWS services)')),
    DEFAULT_EVENT_SOURCE,
  ),
  [ENV.watchedFields]: z._default(watchedFields, [...SPEC_WATCHED_FIELDS]),
  [ENV.watchedFieldResolutions]: z._default(watchedFieldResolutions, {}),
  [ENV.publisherHostFallback]: z._default(text(), DEFAULT_PUBLISHER_HOST),
  [ENV.quarantineQueueUrl]: z.optional(z.url({ message: 'must be a URL' })),
  // S3 bucket names: 3-63 characters (S3 user guide, bucketnamingrules).
  [ENV.quarantineBucket]: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'))),
  [ENV.putEventsConcurrency]: z._default(
    z.coerce.number().check(z.int('must be a whole number'), z.gte(1, 'must be at least 1'), z.lte(64, 'must be at most 64')),
    DEFAULT_PUT_EVENTS_CONCURRENCY,
  ),
  // PutEvents' EndpointId: "^[A-Za-z0-9\-]+[\.][A-Za-z0-9\-]+$", 1-50 characters (EventBridge API reference, PutEvents).
  [ENV.globalEndpointId]: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9-]+\.[A-Za-z0-9-]+$/, 'must be an EventBridge endpoint id (<id>.<suffix>, as the endpoint\'s EndpointId attribute)'), z.maxLength(50, 'must be at most 50 characters')),
  ),
  // A top-level attribute name (DynamoDB allows up to 64 KB; a writer's mark needs far less).
  [ENV.writerRegionAttribute]: z.optional(text(255)),
  [ENV.notifyWriterRegion]: z.optional(z.string().check(z.regex(REGION_NAME, 'must be a region name (e.g. eu-west-1)'))),
});

export interface NotifierConfig {
  readonly eventBusName: string;
  readonly eventSource: string;
  readonly watchedFields: readonly ComputeNodeField[];
  /** Resolutions of watched fields (field-resolution.ts); a watched field not listed is exact. */
  readonly fieldResolutions: FieldResolutions;
  readonly publisherHostFallback: string;
  readonly quarantineQueueUrl: string | undefined;
  /** Where a quarantine message over SQS's 1 MiB is kept whole (claim-check.ts); without it such a record is reported to Lambda. */
  readonly quarantineBucket: string | undefined;
  readonly putEventsConcurrency: number;
  /**
   * The EventBridge global endpoint to put events through (PutEvents `EndpointId`, signed with
   * SigV4a); unset, events go to the bus's regional endpoint as always.
   */
  readonly globalEndpointId?: string;
  /**
   * Notify only the writes made in one region (global tables, writer-region.ts): the attribute
   * that carries the writer's region, and the region (NOTIFY_WRITER_REGION, else the function's
   * own AWS_REGION). Unset, every record is handled, whatever it carries.
   */
  readonly writerRegion?: WriterRegion;
}

/** Reads and validates the configuration; a bad value is a ConfigurationError naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): NotifierConfig {
  const present = Object.fromEntries(Object.values(ENV).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`invalid configuration: ${detail}`);
  }
  const c = parsed.data;
  const unwatched = Object.keys(c[ENV.watchedFieldResolutions]).filter((f) => !c[ENV.watchedFields].includes(f as ComputeNodeField));
  if (unwatched.length > 0) {
    throw new ConfigurationError(`invalid configuration: ${ENV.watchedFieldResolutions}: ${unwatched.map((f) => `'${f}'`).join(', ')} not in ${ENV.watchedFields} (a resolution applies to a watched field)`);
  }
  const attribute = c[ENV.writerRegionAttribute];
  const region = c[ENV.notifyWriterRegion] ?? (env.AWS_REGION === '' ? undefined : env.AWS_REGION);
  if (attribute === undefined && c[ENV.notifyWriterRegion] !== undefined) {
    throw new ConfigurationError(`invalid configuration: ${ENV.notifyWriterRegion}: is used only with ${ENV.writerRegionAttribute} (the attribute that names a write's region)`);
  }
  if (attribute !== undefined && region === undefined) {
    throw new ConfigurationError(`invalid configuration: ${ENV.notifyWriterRegion}: must be set when AWS_REGION is not (the region whose writes ${ENV.writerRegionAttribute} selects)`);
  }
  return {
    eventBusName: c[ENV.eventBusName],
    eventSource: c[ENV.eventSource],
    watchedFields: c[ENV.watchedFields],
    fieldResolutions: c[ENV.watchedFieldResolutions],
    publisherHostFallback: c[ENV.publisherHostFallback],
    quarantineQueueUrl: c[ENV.quarantineQueueUrl],
    quarantineBucket: c[ENV.quarantineBucket],
    putEventsConcurrency: c[ENV.putEventsConcurrency],
    ...(c[ENV.globalEndpointId] === undefined ? {} : { globalEndpointId: c[ENV.globalEndpointId] }),
    ...(attribute === undefined || region === undefined ? {} : { writerRegion: { attribute, region } }),
  };
}

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

/** Environment variable names, shared with the CDK construct that sets them. */
export const ENV = {
  eventBusName: 'EVENT_BUS_NAME',
  eventSource: 'EVENT_SOURCE',
  watchedFields: 'WATCHED_FIELDS',
  publisherHostFallback: 'PUBLISHER_HOST_FALLBACK',
  quarantineQueueUrl: 'QUARANTINE_QUEUE_URL',
  putEventsConcurrency: 'PUT_EVENTS_CONCURRENCY',
} as const;

export const DEFAULT_EVENT_SOURCE = 'openstack.nova';
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

const text = (max = 256) => z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

const ConfigSchema = z.object({
  [ENV.eventBusName]: z._default(text(1600), 'default'),
  [ENV.eventSource]: z._default(
    text().check(z.refine((s) => !s.startsWith('aws.'), 'must not start with "aws." (reserved for AWS services)')),
    DEFAULT_EVENT_SOURCE,
  ),
  [ENV.watchedFields]: z._default(watchedFields, [...SPEC_WATCHED_FIELDS]),
  [ENV.publisherHostFallback]: z._default(text(), DEFAULT_PUBLISHER_HOST),
  [ENV.quarantineQueueUrl]: z.optional(z.url({ message: 'must be a URL' })),
  [ENV.putEventsConcurrency]: z._default(
    z.coerce.number().check(z.int('must be a whole number'), z.gte(1, 'must be at least 1'), z.lte(64, 'must be at most 64')),
    DEFAULT_PUT_EVENTS_CONCURRENCY,
  ),
});

export interface NotifierConfig {
  readonly eventBusName: string;
  readonly eventSource: string;
  readonly watchedFields: readonly ComputeNodeField[];
  readonly publisherHostFallback: string;
  readonly quarantineQueueUrl: string | undefined;
  readonly putEventsConcurrency: number;
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
  return {
    eventBusName: c[ENV.eventBusName],
    eventSource: c[ENV.eventSource],
    watchedFields: c[ENV.watchedFields],
    publisherHostFallback: c[ENV.publisherHostFallback],
    quarantineQueueUrl: c[ENV.quarantineQueueUrl],
    putEventsConcurrency: c[ENV.putEventsConcurrency],
  };
}

/**
 * Resync configuration: the notifier's variables that shape a notification (bus, source,
 * publisher fallback host: a resync notification must look exactly like the notifier's),
 * plus the table, the scan's segments and the PutEvents rate. Read by the Lambda function
 * from its environment and by the CLI from the environment and its flags.
 */
import * as z from 'zod/mini';
import '../notifier/zod-messages.js';
import { ENV as NOTIFIER_ENV, loadConfig } from '../notifier/config.js';
import { ConfigurationError } from '../notifier/errors.js';

export const RESYNC_ENV = {
  tableName: 'TABLE_NAME',
  totalSegments: 'RESYNC_TOTAL_SEGMENTS',
  putEventsPerSecond: 'RESYNC_PUT_EVENTS_PER_SECOND',
  pageSize: 'RESYNC_PAGE_SIZE',
  segmentConcurrency: 'RESYNC_SEGMENT_CONCURRENCY',
} as const;

export const DEFAULT_TOTAL_SEGMENTS = 8;
/** PutEvents requests per second (each up to 10 notifications). The default account quota is far higher in most regions (10,000/s in the largest); keep resync a small share of it. */
export const DEFAULT_PUT_EVENTS_PER_SECOND = 50;
export const DEFAULT_PAGE_SIZE = 200;
export const DEFAULT_SEGMENT_CONCURRENCY = 4;

export interface ResyncConfig {
  readonly tableName: string;
  readonly eventBusName: string;
  readonly eventSource: string;
  readonly publisherHostFallback: string;
  readonly totalSegments: number;
  readonly putEventsPerSecond: number;
  readonly pageSize: number;
  readonly segmentConcurrency: number;
}

const positiveInt = (max: number) =>
  z.coerce.number().check(z.int('must be a whole number'), z.gte(1, 'must be at least 1'), z.lte(max, `must be at most ${max}`));

const Schema = z.object({
  [RESYNC_ENV.tableName]: z.string().check(z.minLength(1, 'must be set (the compute node table to scan)')),
  [RESYNC_ENV.totalSegments]: z._default(positiveInt(1_000_000), DEFAULT_TOTAL_SEGMENTS),
  [RESYNC_ENV.putEventsPerSecond]: z._default(
    z.coerce.number().check(z.gt(0, 'must be greater than 0'), z.lte(10_000, 'must be at most 10000')),
    DEFAULT_PUT_EVENTS_PER_SECOND,
  ),
  [RESYNC_ENV.pageSize]: z._default(positiveInt(10_000), DEFAULT_PAGE_SIZE),
  [RESYNC_ENV.segmentConcurrency]: z._default(positiveInt(64), DEFAULT_SEGMENT_CONCURRENCY),
});

/** Reads and validates; a bad value is a ConfigurationError naming the variable. */
export function loadResyncConfig(env: Record<string, string | undefined>): ResyncConfig {
  const keys = [...Object.values(RESYNC_ENV)];
  const present = Object.fromEntries(keys.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const parsed = Schema.safeParse(present);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`invalid configuration: ${detail}`);
  }
  // The notification-shaping variables are the notifier's own, validated by its loader.
  const notifier = loadConfig({
    [NOTIFIER_ENV.eventBusName]: env[NOTIFIER_ENV.eventBusName],
    [NOTIFIER_ENV.eventSource]: env[NOTIFIER_ENV.eventSource],
    [NOTIFIER_ENV.publisherHostFallback]: env[NOTIFIER_ENV.publisherHostFallback],
  });
  const c = parsed.data;
  return {
    tableName: c[RESYNC_ENV.tableName],
    eventBusName: notifier.eventBusName,
    eventSource: notifier.eventSource,
    publisherHostFallback: notifier.publisherHostFallback,
    totalSegments: c[RESYNC_ENV.totalSegments],
    putEventsPerSecond: c[RESYNC_ENV.putEventsPerSecond],
    pageSize: c[RESYNC_ENV.pageSize],
    segmentConcurrency: c[RESYNC_ENV.segmentConcurrency],
  };
}

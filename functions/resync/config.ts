/**
 * Resync configuration: the compute node table, the small state table that holds the run
 * lease, the bus and `source` of the run's control events (the notifier's), the scan's
 * segments and page size, and the marker write rate. Read by the Lambda function from its
 * environment and by the CLI from the environment and its flags.
 */
import * as z from 'zod/mini';
import '../notifier/zod-messages.js';
import { ENV as NOTIFIER_ENV, loadConfig } from '../notifier/config.js';
import { ConfigurationError } from '../notifier/errors.js';

export const RESYNC_ENV = {
  tableName: 'TABLE_NAME',
  stateTableName: 'RESYNC_STATE_TABLE_NAME',
  totalSegments: 'RESYNC_TOTAL_SEGMENTS',
  writesPerSecond: 'RESYNC_WRITES_PER_SECOND',
  pageSize: 'RESYNC_PAGE_SIZE',
  segmentConcurrency: 'RESYNC_SEGMENT_CONCURRENCY',
  leaseSeconds: 'RESYNC_LEASE_SECONDS',
} as const;

/** The state table's name where none is configured (the CLI creates it in DynamoDB Local). */
export const DEFAULT_STATE_TABLE_NAME = 'hypervisor-resync-state';
export const DEFAULT_TOTAL_SEGMENTS = 8;
/**
 * Marker writes per second. Each write is one UpdateItem on the table (one write unit for an
 * item up to 1 KB, more for larger items) and one stream record, hence one notification the
 * notifier publishes: 100 a second keeps a resync a small share of the table's write capacity,
 * of the notifier's PutEvents and of every consumer's intake; 100,000 nodes take ~17 minutes.
 */
export const DEFAULT_WRITES_PER_SECOND = 100;
export const DEFAULT_PAGE_SIZE = 200;
export const DEFAULT_SEGMENT_CONCURRENCY = 4;
/** How long a run's lease lasts without renewal: the wait before another run may start after a crash. */
export const DEFAULT_LEASE_SECONDS = 600;

export interface ResyncConfig {
  readonly tableName: string;
  readonly stateTableName: string;
  readonly eventBusName: string;
  readonly eventSource: string;
  readonly totalSegments: number;
  readonly writesPerSecond: number;
  readonly pageSize: number;
  readonly segmentConcurrency: number;
  readonly leaseSeconds: number;
}

const positiveInt = (max: number) =>
  z.coerce.number().check(z.int('must be a whole number'), z.gte(1, 'must be at least 1'), z.lte(max, `must be at most ${max}`));

const Schema = z.object({
  [RESYNC_ENV.tableName]: z.string().check(z.minLength(1, 'must be set (the compute node table to resync)')),
  [RESYNC_ENV.stateTableName]: z._default(z.string().check(z.minLength(3, 'must be a table name'), z.maxLength(255, 'must be a table name')), DEFAULT_STATE_TABLE_NAME),
  [RESYNC_ENV.totalSegments]: z._default(positiveInt(1_000_000), DEFAULT_TOTAL_SEGMENTS),
  [RESYNC_ENV.writesPerSecond]: z._default(
    z.coerce.number().check(z.gt(0, 'must be greater than 0'), z.lte(40_000, 'must be at most 40000')),
    DEFAULT_WRITES_PER_SECOND,
  ),
  [RESYNC_ENV.pageSize]: z._default(positiveInt(10_000), DEFAULT_PAGE_SIZE),
  [RESYNC_ENV.segmentConcurrency]: z._default(positiveInt(64), DEFAULT_SEGMENT_CONCURRENCY),
  [RESYNC_ENV.leaseSeconds]: z._default(positiveInt(86_400), DEFAULT_LEASE_SECONDS),
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
  // The control events go where the notifications go, with their source: the notifier's variables.
  const notifier = loadConfig({
    [NOTIFIER_ENV.eventBusName]: env[NOTIFIER_ENV.eventBusName],
    [NOTIFIER_ENV.eventSource]: env[NOTIFIER_ENV.eventSource],
  });
  const c = parsed.data;
  return {
    tableName: c[RESYNC_ENV.tableName],
    stateTableName: c[RESYNC_ENV.stateTableName],
    eventBusName: notifier.eventBusName,
    eventSource: notifier.eventSource,
    totalSegments: c[RESYNC_ENV.totalSegments],
    writesPerSecond: c[RESYNC_ENV.writesPerSecond],
    pageSize: c[RESYNC_ENV.pageSize],
    segmentConcurrency: c[RESYNC_ENV.segmentConcurrency],
    leaseSeconds: c[RESYNC_ENV.leaseSeconds],
  };
}

/**
 * The redrive function's own settings (environment variables, validated once at start-up);
 * the notifier settings (bus, source, watched fields, quarantine queue) are the notifier's
 * own variables, set to the same values as the notifier function's, so the redrive publishes
 * exactly what the stream would have.
 */
import * as z from 'zod/mini';
import { ConfigurationError } from '../notifier/errors.js';

/** Powertools `service` of the redrive function's logs and metrics. */
export const REDRIVE_SERVICE_NAME = 'hypervisor-notifier-redrive';

export const REDRIVE_ENV = {
  bucket: 'ON_FAILURE_BUCKET',
  queueUrl: 'REDRIVE_QUEUE_URL',
  baseDelaySeconds: 'REDRIVE_BASE_DELAY_SECONDS',
  maxDelaySeconds: 'REDRIVE_MAX_DELAY_SECONDS',
  queueRetentionSeconds: 'REDRIVE_QUEUE_RETENTION_SECONDS',
  maxAttempts: 'REDRIVE_MAX_ATTEMPTS',
} as const;

/** First delay after a failed redrive; it doubles with each further failure. */
export const DEFAULT_BASE_DELAY_SECONDS = 60;
/**
 * Attempts before an object is parked: with the default delays (one minute doubling to 12
 * hours) the 16th attempt comes about 3.5 days after the first. Each attempt publishes the
 * object's good records again (consumers deduplicate them), so an object that cannot
 * complete is not tried for as long as the bucket keeps it.
 */
export const DEFAULT_MAX_ATTEMPTS = 16;
/** SQS's largest visibility timeout: 12 hours (ChangeMessageVisibility, SQS API Reference). */
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** SQS's longest message retention: 14 days (SQS developer guide, quotas). */
export const MAX_QUEUE_RETENTION_SECONDS = 14 * 24 * 60 * 60;

const seconds = (min: number, max: number) =>
  z.coerce.number().check(z.int('must be a whole number of seconds'), z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`));

const Schema = z.object({
  [REDRIVE_ENV.bucket]: z.string().check(z.minLength(1, 'must name the on-failure bucket')),
  [REDRIVE_ENV.queueUrl]: z.url({ message: 'must be a URL' }),
  [REDRIVE_ENV.baseDelaySeconds]: z._default(seconds(1, MAX_VISIBILITY_SECONDS), DEFAULT_BASE_DELAY_SECONDS),
  [REDRIVE_ENV.maxDelaySeconds]: z._default(seconds(1, MAX_VISIBILITY_SECONDS), MAX_VISIBILITY_SECONDS),
  [REDRIVE_ENV.queueRetentionSeconds]: z._default(seconds(60, MAX_QUEUE_RETENTION_SECONDS), MAX_QUEUE_RETENTION_SECONDS),
  [REDRIVE_ENV.maxAttempts]: z._default(z.coerce.number().check(z.int('must be a whole number'), z.gte(1, 'must be at least 1'), z.lte(1000, 'must be at most 1000')), DEFAULT_MAX_ATTEMPTS),
});

export interface RedriveConfig {
  readonly bucket: string;
  readonly queueUrl: string;
  /** Failed attempts after which an object is parked (tagged `redrive=parked` with the reason, alarmed) instead of tried again. */
  readonly maxAttempts: number;
  readonly backoff: BackoffSettings;
}

export interface BackoffSettings {
  readonly baseDelaySeconds: number;
  readonly maxDelaySeconds: number;
  /** The redrive queue's MessageRetentionPeriod: a message about to outlive it is sent again. */
  readonly queueRetentionSeconds: number;
}

/** Reads and validates the redrive settings; a bad value is a ConfigurationError naming the variable. */
export function loadRedriveConfig(env: Record<string, string | undefined>): RedriveConfig {
  const present = Object.fromEntries(Object.values(REDRIVE_ENV).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const parsed = Schema.safeParse(present);
  if (!parsed.success) throw new ConfigurationError(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const c = parsed.data;
  return {
    bucket: c[REDRIVE_ENV.bucket],
    queueUrl: c[REDRIVE_ENV.queueUrl],
    maxAttempts: c[REDRIVE_ENV.maxAttempts],
    backoff: {
      baseDelaySeconds: c[REDRIVE_ENV.baseDelaySeconds],
      maxDelaySeconds: Math.max(c[REDRIVE_ENV.baseDelaySeconds], c[REDRIVE_ENV.maxDelaySeconds]),
      queueRetentionSeconds: c[REDRIVE_ENV.queueRetentionSeconds],
    },
  };
}

/**
 * A token bucket: at most `burst` requests at once, refilled at `ratePerSecond`. `take()`
 * reserves the next token synchronously, then waits until its time, so concurrent callers
 * are granted one after another in call order and the schedule never exceeds the rate.
 * The clock and the sleep are injected, so tests check the schedule without waiting.
 *
 * @example
 * ```ts
 * const bucket = createTokenBucket({ ratePerSecond: 50 });
 * await bucket.take(); // then send one PutEvents request
 * ```
 */

export interface TokenBucketOptions {
  /** Tokens added per second (> 0). */
  readonly ratePerSecond: number;
  /** Bucket size: how many requests may go at once after a pause. @default 1 (no burst: evenly spaced) */
  readonly burst?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface TokenBucket {
  /** Resolves when one token is granted. */
  take(): Promise<void>;
  /** The epoch milliseconds at which each token was granted, in order (bounded to the last 10,000). */
  readonly grants: readonly number[];
}

export class TokenBucketConfigError extends Error {
  override readonly name = 'TokenBucketConfigError';
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createTokenBucket(opts: TokenBucketOptions): TokenBucket {
  const rate = opts.ratePerSecond;
  const burst = opts.burst ?? 1;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new TokenBucketConfigError(`rate must be a positive number of requests per second, got ${rate}`);
  if (!Number.isInteger(burst) || burst < 1) throw new TokenBucketConfigError(`burst must be a whole number of at least 1, got ${burst}`);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const interval = 1000 / rate;
  let tokens = burst;
  let updated = now();
  const grants: number[] = [];

  return {
    grants,
    async take() {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - updated) * rate) / 1000);
      updated = t;
      // Reserve now (tokens may go negative: a debt the caller waits out).
      tokens -= 1;
      if (tokens < 0) {
        const wait = -tokens * interval;
        await sleep(Math.ceil(wait));
      }
      grants.push(now());
      if (grants.length > 10_000) grants.shift();
    },
  };
}

/**
 * Exponential backoff with full jitter, bounded by a deadline: the invocation's remaining
 * time. A retry that could not finish before the deadline is not started; what is left
 * is reported back to Lambda, which retries the batch from there.
 */

export interface RetryPolicy {
  /** Milliseconds to wait before retry number `attempt` (1-based), or undefined when out of time. */
  delayBefore(attempt: number): number | undefined;
}

export interface RetryOptions {
  /** Epoch milliseconds after which no new attempt starts. */
  readonly deadline: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxAttempts?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Full-jitter backoff: uniform in [0, min(max, base·2^attempt)]. */
export function retryPolicy(opts: RetryOptions): RetryPolicy {
  const base = opts.baseDelayMs ?? 50;
  const cap = opts.maxDelayMs ?? 2_000;
  const maxAttempts = opts.maxAttempts ?? 12;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  return {
    delayBefore(attempt) {
      if (attempt >= maxAttempts) return undefined;
      const delay = Math.floor(random() * Math.min(cap, base * 2 ** attempt));
      return now() + delay < opts.deadline ? delay : undefined;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with at most `limit` running at once. */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

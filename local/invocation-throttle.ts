/**
 * EventBridge's "Invocations throttle limit" on the local bus: at most `perSecond` rule
 * invocations a second (a token bucket holding one second's worth), and past it, as AWS's
 * quota page says, "the invocations are throttled; that is, they still happen but they are
 * delayed". Nothing is dropped: a throttled invocation waits in order until a token frees.
 *
 * @example
 * ```ts
 * const throttle = new InvocationThrottle(750);
 * throttle.invoke(() => deliver(event)); // now, or later
 * await throttle.whenIdle();
 * ```
 */

export interface InvocationThrottleStats {
  /** Invocations asked for. */
  invocations: number;
  /** Of those, the ones that had to wait. */
  delayed: number;
  /** The longest wait of a delayed invocation, in ms. */
  maxDelayMs: number;
}

interface Waiting {
  readonly run: () => void;
  readonly since: number;
}

export class InvocationThrottle {
  readonly stats: InvocationThrottleStats = { invocations: 0, delayed: 0, maxDelayMs: 0 };
  private tokens: number;
  private last: number;
  private waiting: Waiting[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private idle: (() => void)[] = [];
  private closed = false;

  /** @param now the clock (tests pass a fake one through vitest's fake timers, which also fake Date.now) */
  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(Number.isFinite(perSecond) && perSecond > 0)) throw new RangeError(`invocations per second must be a number > 0, got ${perSecond}`);
    this.tokens = perSecond;
    this.last = now();
  }

  /** Invocations waiting for a token. */
  get pending(): number {
    return this.waiting.length - this.head;
  }

  /** Runs `run` now if a token is free and nobody waits, else in order once one is. */
  invoke(run: () => void): void {
    if (this.closed) throw new Error('the invocation throttle is closed');
    this.stats.invocations++;
    this.refill();
    if (this.pending === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      run();
      return;
    }
    this.stats.delayed++;
    this.waiting.push({ run, since: this.now() });
    this.schedule();
  }

  /** Resolves once no invocation waits. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops the clock; returns how many invocations were still waiting (they will not run). */
  close(): number {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.pending;
    this.waiting = [];
    this.head = 0;
    for (const resolve of this.idle.splice(0)) resolve();
    return left;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    this.refill();
    while (this.pending > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      const next = this.waiting[this.head++]!;
      this.stats.maxDelayMs = Math.max(this.stats.maxDelayMs, this.now() - next.since);
      next.run();
    }
    if (this.pending > 0) {
      // Compact now and then so a long backlog does not keep every finished entry.
      if (this.head > 1024) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.schedule();
      return;
    }
    this.waiting = [];
    this.head = 0;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}

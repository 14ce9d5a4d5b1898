/**
 * Ready-made fault policies for the local stand-ins (`bus.faults`, `sqs.faults`): the
 * fault-injection tests (`test/faults/`) and the soak (`npm run soak`) use them; `npm start`
 * never does. Every decision comes from the given PRNG, and every injected fault is counted
 * in a {@link FaultLog}, so a scenario can show (and a test can check) that its faults happened.
 *
 * @example
 * ```ts
 * const log = new FaultLog();
 * pipeline.eventBus.faults = busFaults({ failEntries: 0.2, random: seededRandom(7), log });
 * // ... later
 * pipeline.eventBus.faults = undefined;
 * log.count('entry:ThrottlingException'); // how many entries were refused
 * ```
 */
import type { RequestFault } from './aws-json-server.js';
import type { EventBusFaults } from './event-bus-server.js';
import type { SqsFaults } from './sqs-server.js';

export { seededRandom } from './seeded-random.js';

/** Counts injected faults by label (`request:drop`, `entry:InternalFailure`, ...). */
export class FaultLog {
  private readonly counts = new Map<string, number>();

  note(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** One label's count, or (without a label) the total. */
  count(label?: string): number {
    if (label !== undefined) return this.counts.get(label) ?? 0;
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** `label=count` pairs, for a summary line. */
  summary(): string {
    return [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  }
}

/** When faults apply: by hand (`set`), or on a schedule (on for `onMs`, then off for `offMs`, repeating). */
export class FaultWindow {
  private manual: boolean | undefined;
  private readonly startedAt: number;

  constructor(
    private readonly schedule?: { readonly onMs: number; readonly offMs: number },
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  set(active: boolean | undefined): void {
    this.manual = active;
  }

  get active(): boolean {
    if (this.manual !== undefined) return this.manual;
    if (this.schedule === undefined) return true;
    const period = this.schedule.onMs + this.schedule.offMs;
    return (this.now() - this.startedAt) % period < this.schedule.onMs;
  }
}

/** Faults of the connection itself, shared by the bus and the queue stand-ins. */
interface ConnectionFaultOptions {
  /** Faults apply only while the window is active. @default always */
  readonly window?: FaultWindow;
  /** Operations the request faults apply to. */
  readonly operations?: readonly string[];
  /** Share of requests whose connection is dropped: half before the server sees them, half after it took them. */
  readonly drop?: number;
  /** Share of requests never answered: half before, half after the server took them. */
  readonly hang?: number;
  /** Share of requests answered late, and how late. */
  readonly delay?: { readonly share: number; readonly ms: number };
  readonly random: () => number;
  readonly log?: FaultLog;
}

export interface BusFaultOptions extends ConnectionFaultOptions {
  /** Operations the request faults apply to. @default ['PutEvents'] */
  readonly operations?: readonly string[];
  /** Share of requests answered with a ThrottlingException (HTTP 400), the whole request refused. */
  readonly throttleRequests?: number;
  /** Share of requests answered with an InternalFailure (HTTP 500). */
  readonly internalErrors?: number;
  /** Share of entries refused with a retryable code (ThrottlingException or InternalFailure), the rest of the request accepted. */
  readonly failEntries?: number;
}

/** Picks at most one fault: each choice is taken with its share of requests (shares add up). */
function pick(random: () => number, choices: readonly (readonly [number | undefined, () => RequestFault])[]): RequestFault | undefined {
  const r = random();
  let edge = 0;
  for (const [share, make] of choices) {
    if (share !== undefined && share > 0 && r < (edge += share)) return make();
  }
  return undefined;
}

/** The network faults common to both stand-ins. */
function networkChoices(o: { drop?: number; hang?: number; delay?: { share: number; ms: number }; random: () => number }) {
  return [
    [o.drop, (): RequestFault => ({ kind: 'drop', after: o.random() < 0.5 })],
    [o.hang, (): RequestFault => ({ kind: 'hang', after: o.random() < 0.5 })],
    [o.delay?.share, (): RequestFault => ({ kind: 'delay', ms: o.delay!.ms })],
  ] as const;
}

function label(fault: RequestFault): string {
  if (fault.kind === 'error') return `request:${fault.type.replace(/^.*#/, '')}`;
  if (fault.kind === 'delay') return 'request:delay';
  return `request:${fault.kind}${fault.after ? '-after' : ''}`;
}

/** EventBridge misbehaving: throttling, random entry failures, network faults. */
export function busFaults(o: BusFaultOptions): EventBusFaults {
  const operations = new Set(o.operations ?? ['PutEvents']);
  const throttle: RequestFault = { kind: 'error', type: 'ThrottlingException', message: 'Rate exceeded', status: 400 };
  const internal: RequestFault = { kind: 'error', type: 'InternalFailure', message: 'injected internal failure', status: 500 };
  return {
    request(operation) {
      if (!operations.has(operation) || (o.window !== undefined && !o.window.active)) return undefined;
      const fault = pick(o.random, [[o.throttleRequests, () => throttle], [o.internalErrors, () => internal], ...networkChoices(o)]);
      if (fault !== undefined) o.log?.note(label(fault));
      return fault;
    },
    entry() {
      if (o.failEntries === undefined || (o.window !== undefined && !o.window.active) || o.random() >= o.failEntries) return undefined;
      const code = o.random() < 0.5 ? 'ThrottlingException' : 'InternalFailure';
      o.log?.note(`entry:${code}`);
      return { ErrorCode: code, ErrorMessage: code === 'ThrottlingException' ? 'Rate exceeded' : 'injected internal failure' };
    },
  };
}


export interface SqsFaultOptions extends ConnectionFaultOptions {
  /** Operations the request faults apply to. @default ['SendMessageBatch', 'SendMessage'] */
  readonly operations?: readonly string[];
  /** Share of requests answered with ServiceUnavailable (HTTP 503): 1 = the queue refuses everything. */
  readonly unavailable?: number;
  /** Share of batch entries failed with InternalError (SenderFault false: retryable). */
  readonly failEntries?: number;
}

/** The quarantine queue misbehaving: unavailable, failing entries, network faults. */
export function sqsFaults(o: SqsFaultOptions): SqsFaults {
  const operations = new Set(o.operations ?? ['SendMessageBatch', 'SendMessage']);
  const unavailable: RequestFault = {
    kind: 'error',
    type: 'com.amazonaws.sqs#ServiceUnavailable',
    message: 'injected: the service is unavailable',
    status: 503,
    queryError: 'ServiceUnavailable;Receiver',
  };
  return {
    request(operation) {
      if (!operations.has(operation) || (o.window !== undefined && !o.window.active)) return undefined;
      const fault = pick(o.random, [[o.unavailable, () => unavailable], ...networkChoices(o)]);
      if (fault !== undefined) o.log?.note(label(fault));
      return fault;
    },
    entry() {
      if (o.failEntries === undefined || (o.window !== undefined && !o.window.active) || o.random() >= o.failEntries) return undefined;
      o.log?.note('entry:InternalError');
      return { Code: 'InternalError', Message: 'injected internal error', SenderFault: false };
    },
  };
}

/**
 * Faults by request number: the `n`-th request (0-based) of the given operations gets
 * `script[n]`; the others none. For scenarios that need a fault at an exact point.
 */
export function scriptedFaults(
  script: Readonly<Record<number, RequestFault>>,
  opts: { readonly operations?: readonly string[]; readonly log?: FaultLog } = {},
): { request(operation: string): RequestFault | undefined } {
  const operations = new Set(opts.operations ?? ['PutEvents']);
  let n = 0;
  return {
    request(operation) {
      if (!operations.has(operation)) return undefined;
      const fault = script[n++];
      if (fault !== undefined) opts.log?.note(label(fault));
      return fault;
    },
  };
}

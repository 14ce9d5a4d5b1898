/**
 * Shared benchmark plumbing: the notifier wired as `handler.ts` wires it (real config, real
 * Powertools Logger and Metrics, real SDK clients) but on the stub transport, an output sink
 * so log and EMF lines cost their formatting and write call but never reach the terminal,
 * and the timing helpers (CPU by `process.cpuUsage()`, wall by `performance.now()`, medians).
 */
import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, type NotifierConfig } from '../functions/notifier/config.js';
import { METRICS_NAMESPACE } from '../functions/notifier/metric-names.js';
import { createNotifier, type NotifierContext } from '../functions/notifier/notifier.js';
import { BENCH_QUEUE_URL, StubTransport, type TransportOptions } from './transport.js';

export const BENCH_ENV = { EVENT_BUS_NAME: 'hypervisor-notifications', QUARANTINE_QUEUE_URL: BENCH_QUEUE_URL } as const;

export const CONTEXT: NotifierContext = { getRemainingTimeInMillis: () => 300_000 };

export type Handle = (event: unknown, context: NotifierContext) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

export interface Bench {
  readonly handle: Handle;
  readonly transport: StubTransport;
  readonly config: NotifierConfig;
}

/** The notifier as `handler.ts` wires it (real config, Powertools Logger and Metrics), on the given clients. */
function notifierOn(config: NotifierConfig, eventBridge: EventBridgeClient, sqs: SQSClient): Handle {
  const logger = new Logger({ serviceName: 'hypervisor-notifier' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hypervisor-notifier' });
  return createNotifier({ config, eventBridge, sqs, logger, metrics });
}

/** A notifier as the Lambda runs it, on the stub transport. */
export function benchNotifier(opts: TransportOptions = {}, env: Record<string, string> = {}): Bench {
  const config = loadConfig({ ...BENCH_ENV, ...env });
  const transport = new StubTransport(opts);
  const { eventBridge, sqs } = transport.clients();
  return { handle: notifierOn(config, eventBridge, sqs), transport, config };
}

/**
 * The same notifier on clients that answer at once without the SDK (no serialisation,
 * signing, middleware or response parsing): every PutEvents entry and SQS message accepted.
 * Its CPU is the handler's own code alone, so handler − this = what the SDK costs inside it.
 */
export function benchNotifierWithoutSdk(env: Record<string, string> = {}): { handle: Handle; counts: { putEventsEntries: number; sqsMessages: number } } {
  const config = loadConfig({ ...BENCH_ENV, ...env });
  const counts = { putEventsEntries: 0, sqsMessages: 0 };
  const eventBridge = {
    send: async (command: { input: { Entries?: readonly unknown[] } }) => {
      const entries = command.input.Entries ?? [];
      counts.putEventsEntries += entries.length;
      return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `bench-${i}` })) };
    },
  };
  const sqs = {
    send: async (command: { input: { Entries?: readonly { Id?: string }[] } }) => {
      const entries = command.input.Entries ?? [];
      counts.sqsMessages += entries.length;
      return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: `bench-${e.Id}`, MD5OfMessageBody: '' })), Failed: [] };
    },
  };
  // The notifier only calls `send`; the stand-ins have no more of the clients' surface than that.
  return { handle: notifierOn(config, eventBridge as unknown as EventBridgeClient, sqs as unknown as SQSClient), counts };
}

/**
 * Runs `fn` with stdout and stderr writes swallowed (and counted). Powertools writes through
 * `Console` instances bound to `process.stdout`/`process.stderr` (a new one per single metric),
 * so this catches every line while keeping the formatting and JSON work in the measurement.
 */
export async function sunk<T>(fn: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const out = process.stdout.write;
  const err = process.stderr.write;
  let bytes = 0;
  const swallow = ((chunk: string | Uint8Array, encodingOrCb?: unknown, cb?: unknown): boolean => {
    bytes += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (typeof callback === 'function') queueMicrotask(() => (callback as () => void)());
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = swallow;
  process.stderr.write = swallow;
  try {
    return { value: await fn(), bytes };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Sample {
  /** User + system CPU, microseconds. */
  readonly cpuUs: number;
  readonly wallUs: number;
}

/** CPU and wall time of one call. */
export async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallUs = (performance.now() - t0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: cpu.user + cpu.system, wallUs };
}

/** Median CPU and wall of `reps` calls after `warmup` unmeasured ones. */
export async function repeat(warmup: number, reps: number, fn: () => Promise<unknown>): Promise<Sample & { reps: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: Sample[] = [];
  for (let i = 0; i < reps; i++) samples.push(await timed(fn));
  return { cpuUs: median(samples.map((s) => s.cpuUs)), wallUs: median(samples.map((s) => s.wallUs)), reps };
}

/**
 * Median CPU and wall of each function, run in turns of short blocks (a a a a, b b b b, ...,
 * a a a a, ...) after `warmup` unmeasured blocks. The first run of each block is not kept: it
 * pays for the garbage the previous function left (the old generation's collections come
 * late), so each function is charged its own. `warmup` counts runs. Turns, because on a shared machine load that
 * comes and goes then weighs on every function alike, and their ratios hold.
 */
export async function repeatInterleaved<K extends string>(
  warmup: number,
  reps: number,
  fns: Record<K, () => Promise<unknown>>,
  block = 4,
): Promise<Record<K, Sample & { reps: number }>> {
  const keys = Object.keys(fns) as K[];
  const samples = new Map<K, Sample[]>(keys.map((k) => [k, []]));
  const kept = Math.max(1, block - 1);
  const rounds = Math.ceil(reps / kept);
  const warmupRounds = Math.ceil(warmup / block);
  for (let i = 0; i < warmupRounds + rounds; i++) {
    for (const k of keys) {
      for (let j = 0; j < block; j++) {
        const s = await timed(fns[k]);
        if (i >= warmupRounds && (j > 0 || block === 1)) samples.get(k)!.push(s);
      }
    }
  }
  const out = {} as Record<K, Sample & { reps: number }>;
  for (const k of keys) {
    const xs = samples.get(k)!;
    out[k] = { cpuUs: median(xs.map((s) => s.cpuUs)), wallUs: median(xs.map((s) => s.wallUs)), reps: xs.length };
  }
  return out;
}

/** Median microseconds of a synchronous function, each sample running it `inner` times. */
export function repeatSync(warmup: number, reps: number, inner: number, fn: () => unknown): number {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  let sink: unknown;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) sink = fn();
    samples.push(((performance.now() - t0) * 1000) / inner);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  return median(samples);
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

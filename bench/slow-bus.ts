/**
 * Measurement 4: batch latency with a slow bus. PutEvents answers after a fixed delay; the
 * wall time of a batch is compared with the ideal ⌈requests / concurrency⌉ × delay
 * (concurrency from the configuration, default 4): how well the notifier overlaps requests.
 */
import { CONTEXT, benchNotifier, median, round, sunk, timed } from './harness.js';
import { REALISTIC_MIX, streamEvent } from './record-mix.js';

export interface SlowBusResult {
  readonly records: number;
  readonly putEventsDelayMs: number;
  readonly concurrency: number;
  readonly requests: number;
  readonly idealMs: number;
  readonly reps: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly ratioToIdeal: number;
}

export async function measureSlowBus(opts: { records: number; delayMs?: number; tiny?: boolean }): Promise<SlowBusResult> {
  const delayMs = opts.delayMs ?? 20;
  const { handle, transport, config } = benchNotifier({ putEventsDelayMs: delayMs });
  const event = streamEvent(opts.records, REALISTIC_MIX);
  const warmup = opts.tiny === true ? 0 : 2;
  const reps = opts.tiny === true ? 1 : 5;
  for (let i = 0; i < warmup; i++) await sunk(() => handle(event, CONTEXT));
  const walls: number[] = [];
  const cpus: number[] = [];
  let requests = 0;
  for (let i = 0; i < reps; i++) {
    transport.reset();
    const s = await timed(() => sunk(() => handle(event, CONTEXT)));
    walls.push(s.wallUs / 1000);
    cpus.push(s.cpuUs / 1000);
    requests = transport.counts.putEventsRequests;
  }
  const concurrency = config.putEventsConcurrency;
  const idealMs = Math.ceil(requests / concurrency) * delayMs;
  const wallMs = median(walls);
  return {
    records: opts.records,
    putEventsDelayMs: delayMs,
    concurrency,
    requests,
    idealMs,
    reps,
    wallMs: round(wallMs, 1),
    cpuMs: round(median(cpus), 1),
    ratioToIdeal: round(wallMs / idealMs, 3),
  };
}

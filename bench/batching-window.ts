/**
 * Latency against cost: how long a write takes to reach the bus with the event source
 * mapping's `maxBatchingWindowSeconds` at 0 and at 1, and what each costs the 100,000-node
 * fleet in invocations and billed duration.
 *
 * Runs here, in real time: writes arrive at random (Poisson) at one shard's share of the
 * fleet's rate; a model of the event source mapping reads the shard 4 times a second (Lambda
 * polls each DynamoDB stream shard 4 times a second, and with a batching window gathers
 * records until the window has passed or the batch is full: Lambda developer guide,
 * "Using AWS Lambda with Amazon DynamoDB" / services-ddb-params, as noted in
 * shared/notes/aws-facts.md), one batch in flight per shard, and hands each batch to the
 * real notifier, whose bus answers PutEvents after 20 ms. Latency is from the write to the
 * bus's answer for the entry; DynamoDB's own delay before a record is readable and Lambda's
 * invoke overhead are not in it (the same for both settings).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLEET_ASSUMPTIONS, FULL_VCPU_MB, PRICES } from './fleet.js';
import { CONTEXT, benchNotifier, round, sunk } from './harness.js';
import { FLEET_MIX, prng, streamEvent } from './record-mix.js';

/** Lambda reads a shard this often when it has nothing in hand. */
export const POLL_INTERVAL_MS = 250;
/**
 * Stream shards of the fleet's table (assumed): one shard takes a partition's writes, at most
 * 1,000 a second, so the fleet's 1,667 writes a second need at least 2; 4 leaves headroom.
 */
export const ASSUMED_SHARDS = 4;

export interface WindowFigures {
  readonly maxBatchingWindowSeconds: number;
  readonly records: number;
  readonly notifications: number;
  readonly invocations: number;
  readonly recordsPerInvocation: number;
  /** Write → bus, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The fleet (all shards), per hour. */
  readonly invocationsPerHour: number;
  /** Mean over the invocations: CPU stretched to the memory's CPU share, plus the PutEvents waits. */
  readonly billedMsPerInvocation: number;
  readonly billedHoursPerMonth: number;
  readonly lambdaUsdPerMonth: number;
}

export interface BatchingWindowResult {
  readonly shards: number;
  readonly writesPerSecondPerShard: number;
  readonly secondsPerSetting: number;
  readonly putEventsDelayMs: number;
  readonly batchSize: number;
  readonly settings: readonly WindowFigures[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const UUID_TAIL = /5eed0000-0000-4000-8000-([0-9a-f]{12})/g;

async function runSetting(windowSeconds: number, ratePerSecond: number, seconds: number, seed: number): Promise<WindowFigures> {
  const a = FLEET_ASSUMPTIONS;
  const bench = benchNotifier({ putEventsDelayMs: a.putEventsLatencyMs });
  const { handle, transport, config } = bench;
  const total = Math.ceil(ratePerSecond * seconds * 1.5) + 10;
  const pool = streamEvent(total, FLEET_MIX, { seed }).Records;
  const writtenAt = new Float64Array(total);
  const latencies: number[] = [];
  // Every record of the pool carries its own node uuid (…-<index in hex>): the entry's payload names it.
  transport.onPutEventsAnswer = (body) => {
    const now = performance.now();
    const nodes = new Set<number>();
    for (const m of body.toString('utf8').matchAll(UUID_TAIL)) nodes.add(parseInt(m[1]!, 16));
    for (const i of nodes) latencies.push(now - writtenAt[i]!);
  };

  const written: Record<string, unknown>[] = [];
  let stopped = false;
  const writer = (async () => {
    const random = prng(seed + 1);
    const t0 = performance.now();
    let next = t0;
    while (written.length < total) {
      next += (-Math.log(1 - random()) / ratePerSecond) * 1000;
      if (next - t0 > seconds * 1000) break;
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait);
      writtenAt[written.length] = performance.now();
      written.push(pool[written.length]!);
    }
    stopped = true;
  })();

  const windowMs = windowSeconds * 1000;
  let cursor = 0;
  let invocations = 0;
  let notifications = 0;
  let billedMs = 0;
  const cpuShare = Math.min(1, a.lambdaMemoryMb / FULL_VCPU_MB);
  async function invoke(batch: Record<string, unknown>[]): Promise<void> {
    const before = transport.counts.putEventsRequests;
    const entriesBefore = transport.counts.putEventsEntries;
    const cpu0 = process.cpuUsage();
    await sunk(() => handle({ Records: batch }, CONTEXT));
    const cpu = process.cpuUsage(cpu0);
    const requests = transport.counts.putEventsRequests - before;
    invocations++;
    notifications += transport.counts.putEventsEntries - entriesBefore;
    billedMs += Math.ceil((cpu.user + cpu.system) / 1000 / cpuShare + Math.ceil(requests / config.putEventsConcurrency) * a.putEventsLatencyMs);
  }

  let buffer: Record<string, unknown>[] = [];
  let windowStart = 0;
  while (!stopped || cursor < written.length || buffer.length > 0) {
    const pollAt = performance.now();
    const got = written.slice(cursor, cursor + a.batchSize - buffer.length);
    cursor += got.length;
    if (buffer.length === 0 && got.length > 0) windowStart = pollAt;
    buffer.push(...got);
    const due = buffer.length > 0 && (buffer.length >= a.batchSize || pollAt - windowStart >= windowMs || (stopped && cursor >= written.length));
    if (due) {
      const batch = buffer;
      buffer = [];
      await invoke(batch);
      if (cursor < written.length) continue; // a backlog: read again at once
    }
    const nextPoll = pollAt + POLL_INTERVAL_MS;
    const wake = buffer.length > 0 ? Math.min(nextPoll, windowStart + windowMs) : nextPoll;
    const wait = wake - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await writer;
  transport.onPutEventsAnswer = undefined;

  latencies.sort((x, y) => x - y);
  const perShardPerSecond = invocations / seconds;
  const invocationsPerHour = perShardPerSecond * ASSUMED_SHARDS * 3600;
  const billedMsPerInvocation = invocations === 0 ? 0 : billedMs / invocations;
  const invocationsPerMonth = invocationsPerHour * a.hoursPerMonth;
  const gbSeconds = invocationsPerMonth * (billedMsPerInvocation / 1000) * (a.lambdaMemoryMb / 1024);
  return {
    maxBatchingWindowSeconds: windowSeconds,
    records: written.length,
    notifications,
    invocations,
    recordsPerInvocation: round(written.length / Math.max(1, invocations), 1),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(latencies[latencies.length - 1] ?? Number.NaN, 1),
    invocationsPerHour: Math.round(invocationsPerHour),
    billedMsPerInvocation: round(billedMsPerInvocation, 1),
    billedHoursPerMonth: round((invocationsPerMonth * billedMsPerInvocation) / 3_600_000, 1),
    lambdaUsdPerMonth: round(gbSeconds * PRICES.lambdaArmUsdPerGbSecond + (invocationsPerMonth / 1e6) * PRICES.lambdaUsdPerMillionRequests),
  };
}

export async function measureBatchingWindow(opts: { tiny?: boolean } = {}): Promise<BatchingWindowResult> {
  const tiny = opts.tiny === true;
  const a = FLEET_ASSUMPTIONS;
  const fleetRate = (a.computeNodes / a.reportIntervalSeconds) * a.fractionOfReportsWritten;
  const rate = tiny ? 40 : fleetRate / ASSUMED_SHARDS;
  const seconds = tiny ? 1 : 12;
  const settings: WindowFigures[] = [];
  for (const w of [0, 1]) settings.push(await runSetting(w, rate, seconds, 7));
  return {
    shards: ASSUMED_SHARDS,
    writesPerSecondPerShard: round(rate, 1),
    secondsPerSetting: seconds,
    putEventsDelayMs: a.putEventsLatencyMs,
    batchSize: a.batchSize,
    settings,
  };
}

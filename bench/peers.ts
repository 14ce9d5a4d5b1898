/**
 * The peers, in the same run as the notifier: the baseline a capable user would write
 * (`baseline-notifier.ts`: Powertools BatchProcessor, zod, one PutEvents per record) on the
 * same batches and the same transports, and Nova's own figure for one compute_node.create.
 * For each: CPU per record with a bus that answers at once, and the PutEvents requests and
 * wall time of a 1,000-record mixed batch with a bus that answers after 20 ms, with as many
 * requests in flight as the notifier allows.
 */
import { createBaselineNotifier } from './baseline-notifier.js';
import { NOVA_US_PER_CREATE, type HandlerCpuResult } from './handler-cpu.js';
import { BENCH_ENV, CONTEXT, median, repeat, round, timed } from './harness.js';
import { loadConfig } from '../functions/notifier/config.js';
import { CREATES_ONLY, REALISTIC_MIX, streamEvent } from './record-mix.js';
import type { SlowBusResult } from './slow-bus.js';
import { StubTransport } from './transport.js';

export interface PeerFigures {
  /** CPU per record, 1,000-record mixed batch, bus answering at once, µs. */
  readonly cpuUsPerRecordMixed: number;
  /** CPU per notification, creates-only batch, bus answering at once, µs. */
  readonly cpuUsPerNotificationCreates: number;
  /** PutEvents requests for the mixed batch. */
  readonly requests: number;
  /** Wall time of the mixed batch with the slow bus, ms. */
  readonly wallMs: number;
  /** CPU of the mixed batch with the slow bus, ms. */
  readonly cpuMs: number;
  /** Records the handler reported back to Lambda. */
  readonly batchItemFailures: number;
}

export interface PeersResult {
  readonly records: number;
  readonly putEventsDelayMs: number;
  /** PutEvents requests in flight at most, for both. */
  readonly inFlight: number;
  readonly ours: PeerFigures;
  readonly baseline: PeerFigures;
  /** Nova's build and serialise of one compute_node.create (shared/nova-reference), µs. */
  readonly novaUsPerCreate: number;
}

function baseline(transport: StubTransport, inFlight: number) {
  const config = loadConfig({ ...BENCH_ENV });
  return createBaselineNotifier({
    eventBridge: transport.clients().eventBridge,
    eventBusName: config.eventBusName,
    eventSource: config.eventSource,
    publisherHostFallback: config.publisherHostFallback,
    watchedFields: config.watchedFields,
    inFlight,
  });
}

export async function measurePeers(opts: { handlerCpu: HandlerCpuResult; slowBus: SlowBusResult; tiny?: boolean }): Promise<PeersResult> {
  const tiny = opts.tiny === true;
  const { handlerCpu, slowBus } = opts;
  const records = slowBus.records;
  const inFlight = slowBus.concurrency;
  const mixed = streamEvent(records, REALISTIC_MIX);
  const creates = streamEvent(records, CREATES_ONLY);

  // CPU with a bus that answers at once.
  const instant = new StubTransport();
  const handleInstant = baseline(instant, inFlight);
  const warmup = tiny ? 1 : 6;
  const reps = tiny ? 3 : 25;
  let failures = 0;
  const mixedCpu = await repeat(warmup, reps, async () => {
    failures = (await handleInstant(mixed, CONTEXT)).batchItemFailures.length;
  });
  const createsCpu = await repeat(warmup, reps, () => handleInstant(creates, CONTEXT));

  // Wall time with the slow bus.
  const slow = new StubTransport({ putEventsDelayMs: slowBus.putEventsDelayMs });
  const handleSlow = baseline(slow, inFlight);
  await handleSlow(mixed, CONTEXT);
  const walls: number[] = [];
  const cpus: number[] = [];
  let requests = 0;
  for (let i = 0; i < (tiny ? 1 : 3); i++) {
    slow.reset();
    const s = await timed(() => handleSlow(mixed, CONTEXT));
    walls.push(s.wallUs / 1000);
    cpus.push(s.cpuUs / 1000);
    requests = slow.counts.putEventsRequests;
  }

  const ourMixed = handlerCpu.batches.find((b) => b.records === records) ?? handlerCpu.batches[handlerCpu.batches.length - 1]!;
  return {
    records,
    putEventsDelayMs: slowBus.putEventsDelayMs,
    inFlight,
    ours: {
      cpuUsPerRecordMixed: ourMixed.cpuUsPerRecord,
      cpuUsPerNotificationCreates: handlerCpu.createsOnly.cpuUsPerNotification,
      requests: slowBus.requests,
      wallMs: slowBus.wallMs,
      cpuMs: slowBus.cpuMs,
      batchItemFailures: 0,
    },
    baseline: {
      cpuUsPerRecordMixed: round(mixedCpu.cpuUs / records),
      cpuUsPerNotificationCreates: round(createsCpu.cpuUs / records),
      requests,
      wallMs: round(median(walls), 1),
      cpuMs: round(median(cpus), 1),
      batchItemFailures: failures,
    },
    novaUsPerCreate: NOVA_US_PER_CREATE,
  };
}

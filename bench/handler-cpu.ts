/**
 * Measurements 1 and 2: handler CPU per stream record for batches of a realistic mix, the
 * floor (JSON.stringify of the PutEvents entries the handler sent, captured at the transport),
 * a creates-only batch against Nova's own cost, and a per-stage breakdown of the hot path.
 */
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { StreamEvent, StreamRecord } from '../functions/notifier/stream-record.js';
import { CONTEXT, benchNotifier, repeat, repeatSync, round, sunk, type Bench } from './harness.js';
import { CREATES_ONLY, REALISTIC_MIX, streamEvent, type RecordMix } from './record-mix.js';

/** Nova's cost to build and serialise one compute_node.create (shared/nova-reference/README.md). */
export const NOVA_US_PER_CREATE = 190;

export interface BatchCpu {
  readonly records: number;
  readonly notifications: number;
  readonly suppressed: number;
  readonly quarantined: number;
  readonly putEventsRequests: number;
  readonly reps: number;
  /** Median handler CPU (user + system) per record, µs. */
  readonly cpuUsPerRecord: number;
  readonly wallUsPerRecord: number;
  /** JSON.stringify of the PutEvents request entries this batch sent, per record, µs. */
  readonly floorUsPerRecord: number;
  readonly ratioToFloor: number;
  /** Bytes of log and EMF lines one batch writes (to the sink). */
  readonly logBytesPerBatch: number;
  /** Mean PutEvents entry size as EventBridge counts it (14 for Time + UTF-8 of Source, DetailType, Detail), bytes. */
  readonly meanEntryBytes: number;
}

export interface HandlerCpuResult {
  readonly mix: RecordMix;
  readonly batches: readonly BatchCpu[];
  readonly createsOnly: BatchCpu & {
    readonly cpuUsPerNotification: number;
    readonly novaUsPerCreate: number;
    readonly ratioVsNova: number;
    /** Building the notification alone (parse the record, encode, make the entry), µs: Nova's figure covers this part. */
    readonly buildOnlyUsPerNotification: number;
    readonly buildOnlyRatioVsNova: number;
  };
  /** Where a record's CPU goes, in the largest mixed batch, µs per record. */
  readonly breakdown: Breakdown;
}

export interface Breakdown {
  readonly records: number;
  readonly totalUsPerRecord: number;
  /** zod: StreamEvent + StreamRecord.safeParse of every record. */
  readonly envelopeParseUsPerRecord: number;
  /** The notification builder on the parsed records (encode, diff, Detail text, entry size). */
  readonly buildUsPerRecord: number;
  /** The SDK's PutEvents send of the built entries, 10 a request, on the instant transport. */
  readonly sdkPutEventsUsPerRecord: number;
  /** The rest: quarantine (SQS send), logging and EMF metrics, packing, bookkeeping. */
  readonly otherUsPerRecord: number;
}

export interface HandlerCpuOptions {
  readonly sizes: readonly number[];
  readonly tiny?: boolean;
}

function reps(records: number, tiny: boolean): { warmup: number; reps: number } {
  if (tiny) return { warmup: 1, reps: 3 };
  if (records <= 100) return { warmup: 30, reps: 41 };
  return { warmup: 6, reps: 25 };
}

export async function measureBatch(bench: Bench, records: number, mix: RecordMix, tiny: boolean): Promise<BatchCpu> {
  const event = streamEvent(records, mix);
  const { handle, transport } = bench;
  const r = reps(records, tiny);
  let logBytes = 0;
  const sample = await repeat(r.warmup, r.reps, async () => {
    transport.reset();
    const { bytes } = await sunk(() => handle(event, CONTEXT));
    logBytes = bytes;
  });
  // One more, capturing what was sent, for the floor and the counts.
  transport.reset();
  transport.capture = true;
  const { value: response } = await sunk(() => handle(event, CONTEXT));
  transport.capture = false;
  if (response.batchItemFailures.length > 0) throw new Error(`benchmark batch reported failures: ${JSON.stringify(response)}`);
  const counts = transport.counts;
  const sent = transport.capturedRequests();
  const floorBatchUs = repeatSync(tiny ? 1 : 20, tiny ? 3 : 31, 1, () => {
    let n = 0;
    for (const request of sent) n += JSON.stringify(request).length;
    return n;
  });
  const entryBytes = sent.flatMap((r) => r.Entries).map((e) => 14 + [e.Source, e.DetailType, e.Detail].reduce<number>((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : 0), 0));
  const cpuUsPerRecord = sample.cpuUs / records;
  const floorUsPerRecord = floorBatchUs / records;
  return {
    records,
    notifications: counts.putEventsEntries,
    suppressed: records - counts.putEventsEntries - counts.sqsMessages,
    quarantined: counts.sqsMessages,
    putEventsRequests: counts.putEventsRequests,
    reps: sample.reps,
    cpuUsPerRecord: round(cpuUsPerRecord),
    wallUsPerRecord: round(sample.wallUs / records),
    floorUsPerRecord: round(floorUsPerRecord, 3),
    ratioToFloor: round(cpuUsPerRecord / floorUsPerRecord, 1),
    logBytesPerBatch: logBytes,
    meanEntryBytes: entryBytes.length === 0 ? 0 : Math.round(entryBytes.reduce((a, b) => a + b, 0) / entryBytes.length),
  };
}

async function breakdown(bench: Bench, records: number, totalUsPerRecord: number, tiny: boolean): Promise<Breakdown> {
  const event = streamEvent(records, REALISTIC_MIX);
  const build = createNotificationBuilder(bench.config);
  const { eventBridge } = bench.transport.clients();
  const r = reps(records, tiny);
  const parseUs = repeatSync(r.warmup, r.reps, 1, () => {
    const parsed = StreamEvent.parse(event);
    let ok = 0;
    for (const raw of parsed.Records) if (StreamRecord.safeParse(raw).success) ok++;
    return ok;
  });
  const parsed = event.Records.map((raw) => StreamRecord.safeParse(raw)).flatMap((p) => (p.success ? [p.data] : []));
  const entries: PutEventsRequestEntry[] = [];
  const buildUs = repeatSync(r.warmup, r.reps, 1, () => {
    entries.length = 0;
    for (const record of parsed) {
      const outcome = build(record);
      if (outcome.kind === 'notify') entries.push(outcome.notification.entry);
    }
    return entries.length;
  });
  const requests: PutEventsRequestEntry[][] = [];
  for (let i = 0; i < entries.length; i += 10) requests.push(entries.slice(i, i + 10));
  const sdk = await repeat(r.warmup, r.reps, async () => {
    // Four at a time, as the notifier sends them.
    for (let i = 0; i < requests.length; i += 4) {
      await Promise.all(requests.slice(i, i + 4).map((Entries) => eventBridge.send(new PutEventsCommand({ Entries }))));
    }
  });
  const envelopeParseUsPerRecord = parseUs / records;
  const buildUsPerRecord = buildUs / records;
  const sdkPutEventsUsPerRecord = sdk.cpuUs / records;
  return {
    records,
    totalUsPerRecord: round(totalUsPerRecord),
    envelopeParseUsPerRecord: round(envelopeParseUsPerRecord),
    buildUsPerRecord: round(buildUsPerRecord),
    sdkPutEventsUsPerRecord: round(sdkPutEventsUsPerRecord),
    otherUsPerRecord: round(Math.max(0, totalUsPerRecord - envelopeParseUsPerRecord - buildUsPerRecord - sdkPutEventsUsPerRecord)),
  };
}

export async function measureHandlerCpu(opts: HandlerCpuOptions): Promise<HandlerCpuResult> {
  const tiny = opts.tiny === true;
  const bench = benchNotifier();
  const batches: BatchCpu[] = [];
  for (const size of opts.sizes) batches.push(await measureBatch(bench, size, REALISTIC_MIX, tiny));

  const largest = opts.sizes[opts.sizes.length - 1]!;
  const creates = await measureBatch(bench, largest, CREATES_ONLY, tiny);
  const cpuUsPerNotification = (creates.cpuUsPerRecord * creates.records) / creates.notifications;

  // Building alone, for the like-for-like comparison with Nova's build-and-serialise figure.
  const event = streamEvent(largest, CREATES_ONLY);
  const build = createNotificationBuilder(bench.config);
  const r = reps(largest, tiny);
  const buildOnlyBatchUs = repeatSync(r.warmup, r.reps, 1, () => {
    let n = 0;
    for (const raw of event.Records) {
      const outcome = build(StreamRecord.parse(raw));
      if (outcome.kind === 'notify') n += outcome.notification.size;
    }
    return n;
  });
  const buildOnlyUsPerNotification = buildOnlyBatchUs / largest;

  const mixedLargest = batches[batches.length - 1]!;
  return {
    mix: REALISTIC_MIX,
    batches,
    createsOnly: {
      ...creates,
      cpuUsPerNotification: round(cpuUsPerNotification),
      novaUsPerCreate: NOVA_US_PER_CREATE,
      ratioVsNova: round(NOVA_US_PER_CREATE / cpuUsPerNotification, 1),
      buildOnlyUsPerNotification: round(buildOnlyUsPerNotification),
      buildOnlyRatioVsNova: round(NOVA_US_PER_CREATE / buildOnlyUsPerNotification, 1),
    },
    breakdown: await breakdown(bench, largest, mixedLargest.cpuUsPerRecord, tiny),
  };
}

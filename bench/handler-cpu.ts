/**
 * Measurements 1 and 2: handler CPU per stream record for batches of a realistic mix against
 * three floors for the PutEvents requests the batch sent (captured at the transport):
 * `JSON.stringify` alone, the signed floor and the SDK floor (`floors.ts`); a creates-only
 * batch against Nova's own cost; and a per-stage breakdown of the hot path.
 */
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { StreamEvent, StreamRecord } from '../functions/notifier/stream-record.js';
import { floorStages } from './floors.js';
import { CONTEXT, benchNotifier, benchNotifierWithoutSdk, repeatInterleaved, repeatSync, round, sunk, type Bench } from './harness.js';
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
  /** JSON.stringify plus SHA-256 of each request's body (what any SigV4 client does), per record, µs. */
  readonly signedFloorUsPerRecord: number;
  readonly ratioToSignedFloor: number;
  /** Bare EventBridgeClient.send of the same requests, prebuilt, on the instant transport, per record, µs. */
  readonly sdkFloorUsPerRecord: number;
  readonly ratioToSdkFloor: number;
  /** Handler − SDK floor, per record, µs: everything that is ours. */
  readonly overheadUsPerRecord: number;
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
  /** The SDK floor: the SDK's PutEvents send of the requests the batch sent, prebuilt, on the instant transport. */
  readonly sdkPutEventsUsPerRecord: number;
  /** The rest: quarantine (SQS send), logging and EMF metrics, packing, bookkeeping, garbage. */
  readonly otherUsPerRecord: number;
  /** Invalid records in the batch. */
  readonly invalidRecords: number;
  /** Of the rest: the batch's invalid records handled alone (SQS quarantine, their log lines), less an empty batch, per record of the whole batch. */
  readonly quarantineUsPerRecord: number;
  /** Of the rest: an empty batch (the event's check, the metric lines every batch writes), per record of the whole batch. */
  readonly perBatchUsPerRecord: number;
  /** The same handler on clients that answer without the SDK: our own code alone (parse, build, quarantine messages, packing, logs, metrics, their garbage). */
  readonly withoutSdkUsPerRecord: number;
  /** Total − the handler without the SDK: what both SDK clients cost inside the handler (compare with the SDK floor, the same PutEvents requests sent bare). */
  readonly sdkInHandlerUsPerRecord: number;
  /** Handler CPU ÷ (SDK floor + parse and build): the goal's ratio. */
  readonly ratioToSdkParseBuild: number;
}

export interface HandlerCpuOptions {
  readonly sizes: readonly number[];
  readonly tiny?: boolean;
}

function reps(records: number, tiny: boolean): { warmup: number; reps: number } {
  if (tiny) return { warmup: 1, reps: 3 };
  if (records <= 100) return { warmup: 30, reps: 41 };
  // Enough batches for the SDK's own paths (~40 requests a batch) to reach optimised code.
  return { warmup: 24, reps: 33 };
}

export async function measureBatch(bench: Bench, records: number, mix: RecordMix, tiny: boolean): Promise<BatchCpu> {
  const event = streamEvent(records, mix);
  const { handle, transport } = bench;
  const r = reps(records, tiny);
  // One run capturing what was sent, for the floors and the counts.
  transport.reset();
  transport.capture = true;
  const { value: response, bytes: logBytes } = await sunk(() => handle(event, CONTEXT));
  transport.capture = false;
  if (response.batchItemFailures.length > 0) throw new Error(`benchmark batch reported failures: ${JSON.stringify(response)}`);
  const counts = transport.counts;
  const sent = transport.capturedRequests();
  const floors = floorStages(sent, bench.config.putEventsConcurrency);
  // The handler and its floors in turns, so the machine's load weighs on their ratio less.
  const sample = await repeatInterleaved(r.warmup, r.reps, {
    handler: async () => {
      transport.reset();
      await sunk(() => handle(event, CONTEXT));
    },
    signed: floors.signed,
    sdk: floors.sdk,
  });
  const floorBatchUs = repeatSync(tiny ? 1 : 20, tiny ? 3 : 31, 1, () => {
    let n = 0;
    for (const request of sent) n += JSON.stringify(request).length;
    return n;
  });
  const entryBytes = sent.flatMap((r) => r.Entries).map((e) => 14 + [e.Source, e.DetailType, e.Detail].reduce<number>((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : 0), 0));
  const cpuUsPerRecord = sample.handler.cpuUs / records;
  const floorUsPerRecord = floorBatchUs / records;
  const signedFloorUsPerRecord = sample.signed.cpuUs / records;
  const sdkFloorUsPerRecord = sample.sdk.cpuUs / records;
  return {
    records,
    notifications: counts.putEventsEntries,
    suppressed: records - counts.putEventsEntries - counts.sqsMessages,
    quarantined: counts.sqsMessages,
    putEventsRequests: counts.putEventsRequests,
    reps: sample.handler.reps,
    cpuUsPerRecord: round(cpuUsPerRecord),
    wallUsPerRecord: round(sample.handler.wallUs / records),
    floorUsPerRecord: round(floorUsPerRecord, 3),
    ratioToFloor: round(cpuUsPerRecord / floorUsPerRecord, 1),
    signedFloorUsPerRecord: round(signedFloorUsPerRecord, 3),
    ratioToSignedFloor: round(cpuUsPerRecord / signedFloorUsPerRecord, 1),
    sdkFloorUsPerRecord: round(sdkFloorUsPerRecord),
    ratioToSdkFloor: round(cpuUsPerRecord / sdkFloorUsPerRecord, 2),
    overheadUsPerRecord: round(cpuUsPerRecord - sdkFloorUsPerRecord),
    logBytesPerBatch: logBytes,
    meanEntryBytes: entryBytes.length === 0 ? 0 : Math.round(entryBytes.reduce((a, b) => a + b, 0) / entryBytes.length),
  };
}

/**
 * Stage by stage, in CPU time as the handler is measured and in turns with it: the envelope
 * parse, the build, the SDK floor of the batch (its requests sent bare), and the batch's
 * invalid records handled alone (their quarantine, their log lines, one batch's metrics); the
 * rest is ours.
 */
async function breakdown(bench: Bench, records: number, tiny: boolean): Promise<Breakdown> {
  const event = streamEvent(records, REALISTIC_MIX);
  const { handle, transport } = bench;
  const withoutSdk = benchNotifierWithoutSdk();
  const build = createNotificationBuilder(bench.config);
  const r = reps(records, tiny);
  transport.reset();
  transport.capture = true;
  await sunk(() => handle(event, CONTEXT));
  transport.capture = false;
  const floors = floorStages(transport.capturedRequests(), bench.config.putEventsConcurrency);
  const parsed = event.Records.map((raw) => StreamRecord.safeParse(raw)).flatMap((p) => (p.success ? [p.data] : []));
  const invalid = {
    Records: event.Records.filter((raw) => {
      const p = StreamRecord.safeParse(raw);
      return !p.success || build(p.data).kind === 'invalid';
    }),
  };
  let sink = 0;
  const s = await repeatInterleaved(r.warmup, r.reps, {
    handler: async () => {
      transport.reset();
      await sunk(() => handle(event, CONTEXT));
    },
    parse: async () => {
      const parsedEvent = StreamEvent.parse(event);
      for (const raw of parsedEvent.Records) if (StreamRecord.safeParse(raw).success) sink++;
    },
    build: async () => {
      for (const record of parsed) if (build(record).kind === 'notify') sink++;
    },
    sdk: floors.sdk,
    withoutSdk: async () => {
      await sunk(() => withoutSdk.handle(event, CONTEXT));
    },
    invalidAlone: async () => {
      transport.reset();
      await sunk(() => handle(invalid, CONTEXT));
    },
    empty: async () => {
      transport.reset();
      await sunk(() => handle({ Records: [] }, CONTEXT));
    },
  });
  if (sink < 0) throw new Error('unreachable');
  const per = (x: { cpuUs: number }) => x.cpuUs / records;
  const total = per(s.handler);
  const parse = per(s.parse);
  const built = per(s.build);
  const sdk = per(s.sdk);
  const rest = Math.max(0, total - parse - built - sdk);
  const perBatch = Math.min(rest, per(s.empty));
  const quarantine = invalid.Records.length === 0 ? 0 : Math.min(rest - perBatch, Math.max(0, per(s.invalidAlone) - per(s.empty)));
  return {
    records,
    totalUsPerRecord: round(total),
    envelopeParseUsPerRecord: round(parse),
    buildUsPerRecord: round(built),
    sdkPutEventsUsPerRecord: round(sdk),
    otherUsPerRecord: round(rest),
    invalidRecords: invalid.Records.length,
    quarantineUsPerRecord: round(quarantine),
    perBatchUsPerRecord: round(perBatch),
    withoutSdkUsPerRecord: round(per(s.withoutSdk)),
    sdkInHandlerUsPerRecord: round(total - per(s.withoutSdk)),
    ratioToSdkParseBuild: round(total / (sdk + parse + built), 3),
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
    breakdown: await breakdown(bench, largest, tiny),
  };
}

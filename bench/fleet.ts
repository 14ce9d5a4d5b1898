/**
 * Figure 7: fleet scale, from the measured figures. A fleet of compute nodes reporting on
 * Nova's resource-tracker period; the stream records and notifications that makes; the
 * function's CPU and PutEvents requests an hour; and the month's bill at list prices.
 */
import { round } from './harness.js';

/** List prices (us-east-1) and where they were read. */
export const PRICES = {
  region: 'us-east-1',
  lambdaArmUsdPerGbSecond: 0.0000133334,
  lambdaUsdPerMillionRequests: 0.2,
  eventBridgeCustomEventUsdPerMillion: 1.0,
  eventBridgeChunkBytes: 64 * 1024,
  dynamodbStreamsGetRecordsFromLambdaUsd: 0,
  sources: [
    {
      what: 'Lambda arm64 duration $0.0000133334 per GB-second (first 7.5 billion GB-s a month) and $0.20 per 1M requests, US East (N. Virginia)',
      title: 'AWS Lambda Pricing Breakdown: Ultimate Guide 2024',
      url: 'https://cloudchipr.com/blog/aws-lambda-pricing',
      note:
        "The same two rates are in the table of 'Cost' (lambda_local_runner docs, https://git.mcrn.ar/mariano/lambda_local_runner/src/branch/main/docs/lambdas-md/lambda-13-cost.md). " +
        "AWS's own page 'AWS Lambda Pricing' (https://aws.amazon.com/lambda/pricing/) draws its rate tables client-side, so its stored text carries no rates.",
    },
    {
      what: 'EventBridge custom events $1.00 per million events published',
      title: 'Amazon EventBridge Pricing: Complete Guide + Calculator (2026)',
      url: 'https://cloudburn.io/blog/amazon-eventbridge-pricing',
      note: 'US East (N. Virginia), March 2026.',
    },
    {
      what: 'EventBridge: each 64 KB chunk of a payload is billed as one event',
      title: 'Amazon EventBridge (pricing)',
      url: 'https://aws.amazon.com/eventbridge/pricing/',
      note: '',
    },
    {
      what: 'DynamoDB Streams read requests (GetRecords) made by Lambda consumers are free',
      title: 'Evaluate your Streams usage - Amazon DynamoDB',
      url: 'https://docs.amazonaws.cn/en_us/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html',
      note: '',
    },
  ],
} as const;

export interface FleetAssumptions {
  readonly computeNodes: number;
  /** Nova's resource tracker period (update_available_resource, default 60 s). */
  readonly reportIntervalSeconds: number;
  /** Reports that write the item and so make a stream record (a write that changes nothing makes none). */
  readonly fractionOfReportsWritten: number;
  /** Stream records that change a watched field (the rest are suppressed). */
  readonly fractionWatched: number;
  /** Records per invocation (the event source mapping's batch size, batches assumed full). */
  readonly batchSize: number;
  readonly lambdaMemoryMb: number;
  /** PutEvents round trip in production, for the billed duration (as in the slow-bus measurement). */
  readonly putEventsLatencyMs: number;
  readonly putEventsConcurrency: number;
  readonly hoursPerMonth: number;
}

export const FLEET_ASSUMPTIONS: FleetAssumptions = {
  computeNodes: 100_000,
  reportIntervalSeconds: 60,
  fractionOfReportsWritten: 1,
  fractionWatched: 0.1,
  batchSize: 100,
  lambdaMemoryMb: 256,
  putEventsLatencyMs: 20,
  putEventsConcurrency: 4,
  hoursPerMonth: 730,
};

/** What one measured batch of the fleet's mix cost (from the handler CPU run). */
export interface FleetBatchFigures {
  readonly records: number;
  readonly cpuUsPerRecord: number;
  readonly notificationsPerBatch: number;
  readonly putEventsRequestsPerBatch: number;
  readonly entryBytes: number;
}

export interface FleetResult {
  readonly assumptions: FleetAssumptions;
  readonly measured: FleetBatchFigures;
  readonly streamRecordsPerSecond: number;
  readonly notificationsPerSecond: number;
  readonly invocationsPerHour: number;
  readonly cpuSecondsPerHour: number;
  readonly putEventsRequestsPerHour: number;
  readonly billedMsPerInvocation: number;
  readonly monthly: {
    readonly lambdaDurationUsd: number;
    readonly lambdaRequestsUsd: number;
    readonly eventBridgeUsd: number;
    readonly dynamodbStreamsUsd: number;
    readonly totalUsd: number;
  };
  readonly prices: typeof PRICES;
  readonly notes: readonly string[];
}

/** Lambda gives a full vCPU at 1,769 MB and a proportional share below. */
export const FULL_VCPU_MB = 1769;

export function fleetScale(measured: FleetBatchFigures, a: FleetAssumptions = FLEET_ASSUMPTIONS): FleetResult {
  const recordsPerSecond = (a.computeNodes / a.reportIntervalSeconds) * a.fractionOfReportsWritten;
  const notificationsPerSecond = recordsPerSecond * a.fractionWatched;
  const invocationsPerHour = (recordsPerSecond * 3600) / a.batchSize;
  const cpuSecondsPerHour = (recordsPerSecond * 3600 * measured.cpuUsPerRecord) / 1e6;
  const requestsPerInvocation = (measured.putEventsRequestsPerBatch * a.batchSize) / measured.records;
  const putEventsRequestsPerHour = invocationsPerHour * requestsPerInvocation;

  // Billed duration: the CPU work, stretched by the memory's CPU share, plus the PutEvents waits.
  const cpuShare = Math.min(1, a.lambdaMemoryMb / FULL_VCPU_MB);
  const cpuMsPerInvocation = (measured.cpuUsPerRecord * a.batchSize) / 1000 / cpuShare;
  const waitMsPerInvocation = Math.ceil(requestsPerInvocation / a.putEventsConcurrency) * a.putEventsLatencyMs;
  const billedMsPerInvocation = Math.ceil(cpuMsPerInvocation + waitMsPerInvocation);
  const invocationsPerMonth = invocationsPerHour * a.hoursPerMonth;
  const gbSecondsPerMonth = invocationsPerMonth * (billedMsPerInvocation / 1000) * (a.lambdaMemoryMb / 1024);
  const chunks = Math.max(1, Math.ceil(measured.entryBytes / PRICES.eventBridgeChunkBytes));
  const eventsPerMonth = notificationsPerSecond * 3600 * a.hoursPerMonth * chunks;

  const lambdaDurationUsd = gbSecondsPerMonth * PRICES.lambdaArmUsdPerGbSecond;
  const lambdaRequestsUsd = (invocationsPerMonth / 1e6) * PRICES.lambdaUsdPerMillionRequests;
  const eventBridgeUsd = (eventsPerMonth / 1e6) * PRICES.eventBridgeCustomEventUsdPerMillion;
  const dynamodbStreamsUsd = PRICES.dynamodbStreamsGetRecordsFromLambdaUsd;
  return {
    assumptions: a,
    measured,
    streamRecordsPerSecond: round(recordsPerSecond, 1),
    notificationsPerSecond: round(notificationsPerSecond, 1),
    invocationsPerHour: Math.round(invocationsPerHour),
    cpuSecondsPerHour: round(cpuSecondsPerHour, 1),
    putEventsRequestsPerHour: Math.round(putEventsRequestsPerHour),
    billedMsPerInvocation,
    monthly: {
      lambdaDurationUsd: round(lambdaDurationUsd),
      lambdaRequestsUsd: round(lambdaRequestsUsd),
      eventBridgeUsd: round(eventBridgeUsd),
      dynamodbStreamsUsd,
      totalUsd: round(lambdaDurationUsd + lambdaRequestsUsd + eventBridgeUsd + dynamodbStreamsUsd),
    },
    prices: PRICES,
    notes: [
      'CPU per record is this machine’s (x86, Node 20), not Graviton’s; compare as a ratio.',
      `Billed duration per invocation = CPU × ${FULL_VCPU_MB}/${a.lambdaMemoryMb} (the CPU share at ${a.lambdaMemoryMb} MB) + ⌈requests/${a.putEventsConcurrency}⌉ × ${a.putEventsLatencyMs} ms of PutEvents wait; free tier and CloudWatch Logs ingestion not counted.`,
      'Every report is assumed to write the item (an upper bound: a write that changes nothing makes no stream record).',
    ],
  };
}

/** One row of the default stack's cost: a record mix, exact or with resolution. */
export interface FleetRateRow {
  readonly mix: string;
  readonly resolution: 'exact' | 'with resolution';
  /** Stream records per resource-tracker report (a report that changes nothing writes none). */
  readonly recordsPerReport: number;
  readonly fractionOfRecordsNotified: number;
  readonly streamRecordsPerSecond: number;
  readonly notificationsPerSecond: number;
  readonly eventsPerMonth: number;
  readonly eventBridgeUsdPerMonth: number;
  readonly totalUsdPerMonth: number;
}

/** A measured notification rate of one mix (bench/notification-rate.ts), as the cost needs it. */
export interface MixRate {
  readonly mix: string;
  readonly recordsPerReport: number;
  readonly exact: { readonly fractionNotified: number };
  readonly withResolution: { readonly fractionNotified: number };
}

/** PutEvents takes at most 10 entries a request. */
const ENTRIES_PER_PUT_EVENTS = 10;

/**
 * The fleet's bill for measured notification rates: §7's model with the stream records a
 * report makes and the fraction of them notified taken from the simulation instead of
 * assumed. The CPU per record and the entry size are the fleet batch's (measured).
 */
export function fleetRateRows(rates: readonly MixRate[], measured: FleetBatchFigures, a: FleetAssumptions = FLEET_ASSUMPTIONS): FleetRateRow[] {
  return rates.flatMap((rate) =>
    (['exact', 'with resolution'] as const).map((resolution) => {
      const fraction = resolution === 'exact' ? rate.exact.fractionNotified : rate.withResolution.fractionNotified;
      const perBatch = fraction * a.batchSize;
      const f = fleetScale(
        { ...measured, records: a.batchSize, notificationsPerBatch: perBatch, putEventsRequestsPerBatch: Math.ceil(perBatch / ENTRIES_PER_PUT_EVENTS) },
        { ...a, fractionOfReportsWritten: rate.recordsPerReport, fractionWatched: fraction },
      );
      const chunks = Math.max(1, Math.ceil(measured.entryBytes / PRICES.eventBridgeChunkBytes));
      return {
        mix: rate.mix,
        resolution,
        recordsPerReport: round(rate.recordsPerReport, 3),
        fractionOfRecordsNotified: round(fraction, 3),
        streamRecordsPerSecond: f.streamRecordsPerSecond,
        notificationsPerSecond: f.notificationsPerSecond,
        eventsPerMonth: Math.round(((a.computeNodes / a.reportIntervalSeconds) * rate.recordsPerReport * fraction) * 3600 * a.hoursPerMonth * chunks),
        eventBridgeUsdPerMonth: f.monthly.eventBridgeUsd,
        totalUsdPerMonth: f.monthly.totalUsd,
      };
    }),
  );
}

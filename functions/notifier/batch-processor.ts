/**
 * One Lambda batch, start to end: every record becomes a notification, a suppressed or
 * ignored change, or a quarantined record; notifications go out in PutEvents requests
 * shared across records; and the partial batch response names the earliest record that
 * could be neither published nor quarantined, so Lambda retries from there and skips nothing.
 *
 * Powertools' BatchProcessor handles records one at a time, which would cost one PutEvents
 * request per record; this builds the batch response itself.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import type { ClaimCheckStore } from './claim-check.js';
import type { EventType } from './contract/index.js';
import type { FieldIssue } from './errors.js';
import { createEventPublisher, yieldToSends } from './event-publisher.js';
import { quarantine, type QuarantineItem } from './quarantine.js';
import { int64Issues } from './rejection-issues.js';
import { StreamRecord } from './stream-record.js';
import type { BuildOutcome } from './notification-builder.js';

export interface BatchDeps {
  readonly build: (record: StreamRecord) => BuildOutcome;
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly quarantineQueueUrl: string;
  /** Where a quarantine message over 1 MiB is kept whole (claim-check.ts). */
  readonly claimCheck?: ClaimCheckStore | undefined;
  readonly concurrency: number;
  /** Epoch ms after which no attempt (PutEvents or quarantine, the first included) starts. */
  readonly deadline: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** The clock the deadline is read on. @default Date.now */
  readonly now?: () => number;
  /** Called for a PutEvents error the records are not to blame for (access, a missing bus, a per-entry setup code). */
  readonly onSetupError?: (error: unknown) => void;
  /** PutEvents through this global endpoint (config `globalEndpointId`). @default - the regional endpoint */
  readonly endpointId?: string;
  /**
   * Awaited once, before the batch's first heartbeat entry is sent: the notifier's bus check
   * (a heartbeat must not count as published to a bus that is gone, as PutEvents to it answers
   * success). A ConfigurationError it throws fails the batch, the heartbeat unsent.
   * @default - no check
   */
  readonly beforeHeartbeat?: () => Promise<void>;
}

export interface BatchStats {
  readonly sent: Record<EventType, number>;
  suppressed: number;
  ignored: number;
  /** Records written in another region (config `writerRegion`). */
  otherRegion: number;
  quarantined: number;
  putEventsRetries: number;
  putEventsFailures: number;
  putEventsRequests: number;
  batchItemFailures: number;
  /** Heartbeat events accepted by the bus. */
  heartbeats: number;
  /** Per accepted heartbeat with a written time, in record order: ms from its write to the batch's PutEvents answered. */
  readonly heartbeatLagsMs: number[];
}

export interface BatchOutcome {
  readonly response: DynamoDBBatchResponse;
  readonly stats: BatchStats;
  /** Every quarantined or unhandled record with its reason, for the log. */
  readonly problems: { eventID: string; sequenceNumber: string; problem: string; quarantined: boolean }[];
}

/**
 * Raw record → outcome: the envelope validated with zod (issues name the record field),
 * then the notification built. Shared by the handler and the CLI's `render`.
 */
export function classifyRecord(raw: unknown, build: (record: StreamRecord) => BuildOutcome): BuildOutcome {
  const parsed = StreamRecord.safeParse(raw);
  if (!parsed.success) return { kind: 'invalid', issues: envelopeIssues(raw, parsed.error) };
  return build(parsed.data);
}

/** zod issues → our field issues, each naming the record field, the value and the rule. */
function envelopeIssues(raw: unknown, error: { issues: readonly { path: PropertyKey[]; message: string }[] }): FieldIssue[] {
  return error.issues.map((i) => {
    let value: unknown = raw;
    for (const p of i.path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[p] : undefined;
    const field = i.path.map(String).join('.') || '(record)';
    return value === undefined ? { field, rule: i.message } : { field, value, rule: i.message };
  });
}

function identity(raw: unknown): { eventID: string; sequenceNumber: string; eventName: string; eventSourceARN?: string } {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = (typeof r.dynamodb === 'object' && r.dynamodb !== null ? r.dynamodb : {}) as Record<string, unknown>;
  const arn = typeof r.eventSourceARN === 'string' ? r.eventSourceARN : undefined;
  return {
    eventID: typeof r.eventID === 'string' ? r.eventID : '',
    sequenceNumber: typeof d.SequenceNumber === 'string' ? d.SequenceNumber : '',
    eventName: typeof r.eventName === 'string' ? r.eventName : '',
    ...(arn === undefined ? {} : { eventSourceARN: arn }),
  };
}

/** Handles one batch. Throws only ConfigurationError (the stream carries no images; `beforeHeartbeat`'s). */
export async function processBatch(records: readonly unknown[], deps: BatchDeps): Promise<BatchOutcome> {
  const stats: BatchStats = {
    sent: { 'compute_node.create': 0, 'compute_node.update': 0, 'compute_node.delete': 0 },
    suppressed: 0,
    ignored: 0,
    otherRegion: 0,
    quarantined: 0,
    putEventsRetries: 0,
    putEventsFailures: 0,
    putEventsRequests: 0,
    batchItemFailures: 0,
    heartbeats: 0,
    heartbeatLagsMs: [],
  };
  const problems: BatchOutcome['problems'] = [];
  const eventTypes: EventType[] = [];
  // Record index → the heartbeat's written time (NaN without one); a heartbeat has no eventTypes entry.
  const heartbeats = new Map<number, number>();
  const toQuarantine: QuarantineItem[] = [];
  const failed = new Map<number, string>();
  const retryOpts = {
    deadline: deps.deadline,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  };
  // Each request goes out as soon as it is full, so the bus's answer time overlaps the
  // building of the rest of the batch instead of following it.
  const publisher = createEventPublisher(deps.eventBridge, {
    ...retryOpts,
    concurrency: deps.concurrency,
    ...(deps.onSetupError ? { onSetupError: deps.onSetupError } : {}),
    ...(deps.endpointId === undefined ? {} : { endpointId: deps.endpointId }),
  });

  let beforeHeartbeat = deps.beforeHeartbeat;
  for (let key = 0; key < records.length; key++) {
    const raw = records[key];
    let outcome: BuildOutcome;
    try {
      outcome = classifyRecord(raw, deps.build);
      if (outcome.kind === 'heartbeat' && beforeHeartbeat !== undefined) {
        const check = beforeHeartbeat;
        beforeHeartbeat = undefined;
        await check();
      }
    } catch (error) {
      // A ConfigurationError (no images on the stream, the bus gone): Lambda retries the whole
      // batch, so send nothing more, but let what is already out finish rather than run into
      // the next invocation.
      await publisher.abort();
      throw error;
    }
    switch (outcome.kind) {
      case 'notify':
        eventTypes[key] = outcome.notification.eventType;
        if (publisher.add({ key, entry: outcome.notification.entry, size: outcome.notification.size })) await yieldToSends();
        break;
      case 'heartbeat':
        heartbeats.set(key, outcome.heartbeat.writtenAt ?? Number.NaN);
        if (publisher.add({ key, entry: outcome.heartbeat.entry, size: outcome.heartbeat.size })) await yieldToSends();
        break;
      case 'suppressed':
        stats.suppressed++;
        break;
      case 'ignored':
        stats.ignored++;
        break;
      case 'other_region':
        stats.otherRegion++;
        break;
      case 'invalid':
        toQuarantine.push({
          key,
          message: { reason: 'invalid_record', error: 'not a valid compute node', issues: outcome.issues, ...identity(raw), record: raw },
        });
        break;
    }
  }

  // Invalid records are all known now: quarantine them while the last requests are out.
  const quarantineInvalid = sendToQuarantine(toQuarantine);
  const published = await publisher.finish();
  stats.putEventsRetries = published.retries;
  stats.putEventsRequests = published.requests;
  stats.putEventsFailures = published.unsent.size + published.rejected.size;
  // The lag ends when the batch's requests are answered: at most the batch's own sending time late.
  const answeredAt = heartbeats.size === 0 ? 0 : (deps.now ?? Date.now)();
  for (const key of published.published) {
    const eventType = eventTypes[key];
    if (eventType !== undefined) stats.sent[eventType]++;
  }
  for (const [key, writtenAt] of heartbeats) {
    if (!published.published.has(key)) continue;
    stats.heartbeats++;
    if (!Number.isNaN(writtenAt)) stats.heartbeatLagsMs.push(answeredAt - writtenAt);
  }
  for (const [key, why] of published.unsent) failed.set(key, `not published: ${why}`);
  const refused: QuarantineItem[] = [];
  for (const [key, rejection] of published.rejected) {
    const raw = records[key];
    // EventBridge's message names no field; an integer outside 64 bits is one we can name.
    const eventType = eventTypes[key];
    const issues = eventType === undefined ? [] : int64Issues(raw, eventType);
    refused.push({
      key,
      message: {
        reason: 'event_rejected',
        error: `EventBridge refused the entry: ${rejection.errorCode}: ${rejection.errorMessage}`,
        errorCode: rejection.errorCode,
        ...(issues.length === 0 ? {} : { issues }),
        ...identity(raw),
        record: raw,
      },
    });
  }
  await Promise.all([quarantineInvalid, sendToQuarantine(refused)]);

  async function sendToQuarantine(items: QuarantineItem[]): Promise<void> {
    if (items.length === 0) return;
    const q = await quarantine(deps.sqs, deps.quarantineQueueUrl, items, { ...retryOpts, claimCheck: deps.claimCheck });
    stats.quarantined += q.quarantined.size;
    for (const item of items) {
      const quarantined = q.quarantined.has(item.key);
      const why = item.message.issues?.map((i) => `${i.field}: ${i.rule}`).join('; ') ?? item.message.error;
      problems.push({ eventID: item.message.eventID, sequenceNumber: item.message.sequenceNumber, problem: why, quarantined });
      if (!quarantined) failed.set(item.key, `not quarantined: ${q.failed.get(item.key) ?? 'unknown'}`);
    }
  }

  if (failed.size === 0) return { response: { batchItemFailures: [] }, stats, problems };
  // Lambda checkpoints at the lowest sequence number reported: the earliest failure is enough.
  const earliest = Math.min(...failed.keys());
  stats.batchItemFailures = 1;
  for (const [key, why] of failed) {
    const id = identity(records[key]);
    if (!problems.some((p) => p.eventID === id.eventID && p.sequenceNumber === id.sequenceNumber)) {
      problems.push({ eventID: id.eventID, sequenceNumber: id.sequenceNumber, problem: why, quarantined: false });
    }
  }
  return { response: { batchItemFailures: [{ itemIdentifier: identity(records[earliest]).sequenceNumber }] }, stats, problems };
}

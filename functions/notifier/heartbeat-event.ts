/**
 * A record of the reserved heartbeat item → its `hypervisor_notifier.heartbeat` PutEvents entry
 * (contract/heartbeat.ts). Unlike a notification it carries when the notifier handled it, so a
 * retried heartbeat record is not byte-identical; its `message_id` is the record's, as a
 * notification's, for a consumer that deduplicates.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { HEARTBEAT_DETAIL_TYPE, HEARTBEAT_WRITTEN_AT_ATTRIBUTE } from './contract/index.js';
import type { FieldIssue } from './errors.js';
import { messageId } from './message-id.js';
import { entrySize } from './put-events-entry.js';
import type { StreamRecord } from './stream-record.js';

export interface Heartbeat {
  readonly entry: PutEventsRequestEntry;
  /** Entry size as EventBridge counts it. */
  readonly size: number;
  /** Epoch ms the heartbeat was written (the item's written time), for the lag; undefined when it carried none. */
  readonly writtenAt: number | undefined;
}

export interface HeartbeatBuilderOptions {
  readonly eventBusName: string;
  readonly eventSource: string;
  /** The notification builder's epoch cache (JSON text, or an issue for a malformed ARN). */
  readonly epochOf: (arn: string | undefined) => string | FieldIssue;
  readonly now: () => number;
}

// A written time must at least look like an ISO-8601 date-time; Date.parse alone accepts far more.
const ISO_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

/** Builds the record → heartbeat function; nothing is built per record but the entry itself. */
export function createHeartbeatBuilder({ eventBusName, eventSource, epochOf, now }: HeartbeatBuilderOptions): (record: StreamRecord) => Heartbeat {
  return (record) => {
    const handledAt = now();
    const writtenAt = writtenTime(record);
    const epoch = epochOf(record.eventSourceARN);
    // A malformed ARN cannot be a Lambda record's; the heartbeat still goes out, with no epoch.
    const epochJson = typeof epoch === 'string' ? epoch : 'null';
    const detail =
      `{"message_id":"${messageId(record.eventSourceARN, record.eventID)}",` +
      `"written_at":${writtenAt === undefined ? 'null' : `"${new Date(writtenAt).toISOString()}"`},` +
      `"handled_at":"${new Date(handledAt).toISOString()}","epoch":${epochJson},` +
      `"sequence_number":"${record.dynamodb.SequenceNumber}","lag_ms":${writtenAt === undefined ? 'null' : handledAt - writtenAt}}`;
    const entry: PutEventsRequestEntry = {
      Source: eventSource,
      DetailType: HEARTBEAT_DETAIL_TYPE,
      Detail: detail,
      Time: new Date(handledAt),
      EventBusName: eventBusName,
    };
    return { entry, size: entrySize(entry), writtenAt };
  };
}

/** The item's written time in epoch ms, from the new image; undefined when absent or not a time. */
function writtenTime(record: StreamRecord): number | undefined {
  const value = record.dynamodb.NewImage?.[HEARTBEAT_WRITTEN_AT_ATTRIBUTE]?.S;
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The stream epoch of a record: the label of the stream it came from, the last path segment
 * of its `eventSourceARN` (`arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`).
 * A stream disabled and re-enabled, or a re-created table, has a new ARN with a new, later
 * label (an ISO-8601 time, so string order is time order); consumers order a node's
 * notifications by (epoch, sequence number) because AWS documents sequence numbers as
 * ordering records within a stream's shards only. See docs/resync-and-indexer.md.
 */
import { novaJsonString } from './codec/nova-json-string.js';
import type { FieldIssue } from './errors.js';

const STREAM_SEGMENT = '/stream/';

/** The epoch as JSON text (`"2026-11-26T19:06:02.123"`, or `null` without an ARN), or the issue with the ARN. */
export function streamEpochJson(eventSourceArn: string | undefined): string | FieldIssue {
  if (eventSourceArn === undefined) return 'null';
  const at = eventSourceArn.lastIndexOf(STREAM_SEGMENT);
  const label = at < 0 ? '' : eventSourceArn.slice(at + STREAM_SEGMENT.length);
  const json = label === '' || label.includes('/') ? undefined : novaJsonString(label);
  if (json !== undefined) return json;
  return { field: 'eventSourceARN', value: eventSourceArn, rule: 'must be a DynamoDB stream ARN ending in /stream/<label>' };
}

/**
 * {@link streamEpochJson} remembering the last ARN: every record of a batch comes from one
 * stream, so the hot path parses the ARN once per batch, not once per record.
 */
export function createStreamEpochCache(): (eventSourceArn: string | undefined) => string | FieldIssue {
  let lastArn: string | undefined;
  let lastEpoch: string | FieldIssue = 'null';
  return (arn) => {
    if (arn === undefined) return 'null';
    if (arn !== lastArn) {
      lastEpoch = streamEpochJson(arn);
      lastArn = arn;
    }
    return lastEpoch;
  };
}

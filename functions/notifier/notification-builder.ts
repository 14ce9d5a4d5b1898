/**
 * The hot path's core: one stream record → at most one notification, as the exact
 * PutEvents entry to send. A pure function of the record and the configuration, so a
 * retried record produces the byte-identical entry.
 *
 * @example
 * ```ts
 * const build = createNotificationBuilder(config);
 * const outcome = build(record);           // throws ConfigurationError for a KEYS_ONLY stream
 * if (outcome.kind === 'notify') entries.push(outcome.entry);
 * ```
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  ComputeNodeDeletePayload,
  ComputeNodePayload,
  PRIORITY,
  PUBLISHER_PREFIX,
  type ChangeBlock,
  type EventType,
} from './contract/index.js';
import { novaJsonString } from './codec/nova-json-string.js';
import { novaTimestamp } from './codec/nova-timestamp.js';
import { isProblem } from './codec/attribute-codecs.js';
import { compileFields, compilePayloadEncoder } from './payload-encoder.js';
import { isSoftDeleted } from './soft-delete.js';
import { messageId } from './message-id.js';
import { entrySize } from './put-events-entry.js';
import { ConfigurationError, type FieldIssue } from './errors.js';
import { isTtlExpiry, type Image, type StreamRecord } from './stream-record.js';
import type { NotifierConfig } from './config.js';

export interface Notification {
  readonly eventType: EventType;
  readonly entry: PutEventsRequestEntry;
  /** Entry size as EventBridge counts it. */
  readonly size: number;
  readonly changedFields: readonly string[];
}

export type BuildOutcome =
  | { readonly kind: 'notify'; readonly notification: Notification }
  | { readonly kind: 'suppressed' } // MODIFY with no watched field changed
  | { readonly kind: 'ignored'; readonly reason: string } // changes to a soft-deleted node
  | { readonly kind: 'invalid'; readonly issues: readonly FieldIssue[] };

type Cause = ChangeBlock['cause'];

/** Builds the record → notification function for a configuration; all set-up happens here. */
export function createNotificationBuilder(config: Pick<NotifierConfig, 'eventBusName' | 'eventSource' | 'watchedFields' | 'publisherHostFallback'>) {
  const encodeNode = compilePayloadEncoder(ComputeNodePayload);
  const encodeDelete = compilePayloadEncoder(ComputeNodeDeletePayload);
  const nodeFields = compileFields(ComputeNodePayload);
  const watched = nodeFields.map((f, index) => ({ ...f, index })).filter((f) => config.watchedFields.includes(f.name as never));
  const hostCodec = nodeFields.find((f) => f.name === 'host')!;
  const fallbackPublisher = novaJsonString(PUBLISHER_PREFIX + config.publisherHostFallback);
  if (fallbackPublisher === undefined) throw new ConfigurationError('PUBLISHER_HOST_FALLBACK: must be valid Unicode text');
  const { eventBusName, eventSource } = config;

  /** `"nova-compute:<host>"` as JSON text; the fallback host where host is null, empty, absent or not a string. */
  function publisherJson(image: Image): string {
    const host = image[hostCodec.attribute];
    if (typeof host === 'object' && host !== null && typeof host.S === 'string' && host.S !== '') {
      return novaJsonString(PUBLISHER_PREFIX + host.S) ?? fallbackPublisher!;
    }
    return fallbackPublisher!;
  }

  /** A notification of a stream record (resync notifications go through `resync`). */
  function notify(record: StreamRecord, eventType: EventType, payloadJson: string, publisher: string, cause: Cause, changed: readonly string[]): BuildOutcome {
    const seq = record.dynamodb.SequenceNumber;
    const id = messageId(record.eventSourceARN ?? record.eventID, seq, 'stream');
    return notifyAt(id, seq, record.dynamodb.ApproximateCreationDateTime, eventType, payloadJson, publisher, cause, changed, 'stream');
  }

  function notifyAt(
    id: string,
    seq: string,
    seconds: number,
    eventType: EventType,
    payloadJson: string,
    publisher: string,
    cause: Cause,
    changed: readonly string[],
    origin: 'stream' | 'resync',
  ): BuildOutcome & { kind: 'notify' } {
    const changedJson = changed.length === 0 ? '' : '"' + changed.join('","') + '"';
    const detail =
      `{"message_id":"${id}","publisher_id":${publisher},` +
      `"event_type":"${eventType}","priority":"${PRIORITY}","payload":${payloadJson},"timestamp":"${novaTimestamp(seconds)}",` +
      `"change":{"sequence_number":"${seq}","changed_fields":[${changedJson}],"origin":"${origin}","cause":"${cause}"}}`;
    const entry: PutEventsRequestEntry = {
      Source: eventSource,
      DetailType: eventType,
      Detail: detail,
      Time: new Date(Math.round(seconds * 1000)),
      EventBusName: eventBusName,
    };
    return { kind: 'notify', notification: { eventType, entry, size: entrySize(entry), changedFields: changed } };
  }

  function create(record: StreamRecord, image: Image, cause: Cause): BuildOutcome {
    const encoded = encodeNode(image);
    if (!encoded.ok) return { kind: 'invalid', issues: encoded.issues };
    return notify(record, 'compute_node.create', encoded.json, publisherJson(image), cause, []);
  }

  function remove(record: StreamRecord, image: Image, cause: Cause): BuildOutcome {
    const encoded = encodeDelete(image);
    if (!encoded.ok) return { kind: 'invalid', issues: encoded.issues };
    return notify(record, 'compute_node.delete', encoded.json, publisherJson(image), cause, []);
  }

  function update(record: StreamRecord, oldImage: Image, newImage: Image): BuildOutcome {
    // The new image is validated whatever changed: a bad item is reported when it is written.
    const encoded = encodeNode(newImage);
    if (!encoded.ok) return { kind: 'invalid', issues: encoded.issues };
    let changed: string[] | undefined;
    for (const f of watched) {
      const before = oldImage[f.attribute];
      const after = newImage[f.attribute];
      if (sameAttribute(before, after)) continue;
      const old = f.codec(before);
      if (isProblem(old) || old !== encoded.fields[f.index]) (changed ??= []).push(f.name);
    }
    if (changed === undefined) return { kind: 'suppressed' };
    return notify(record, 'compute_node.update', encoded.json, publisherJson(newImage), 'modify', changed);
  }

  function requireImage(record: StreamRecord, which: 'NewImage' | 'OldImage'): Image | FieldIssue {
    const image = record.dynamodb[which];
    if (image !== undefined) return image;
    const view = record.dynamodb.StreamViewType;
    if (view !== undefined && view !== 'NEW_AND_OLD_IMAGES') {
      throw new ConfigurationError(
        `stream record ${record.eventID} has StreamViewType ${view}; the notifier needs NEW_AND_OLD_IMAGES on the table's stream`,
      );
    }
    return { field: `dynamodb.${which}`, rule: `is required for a ${record.eventName} record` };
  }

  /**
   * A resync notification: the current state of a live node as read by a table scan, as a
   * `compute_node.update` with `change.origin: 'resync'`, `sequence_number: "0"` (below every
   * stream notification of the node), no changed fields, and `timestamp` = the read time. The
   * payload is the one `build` would send for the same image. The caller skips soft-deleted
   * items (`isSoftDeleted`); `scanIdentity` names the table (its message ids stay apart from
   * other tables'), and the message id is derived from it, the node and the read time.
   */
  function resync(image: Image, readTimeSeconds: number, scanIdentity: string): BuildOutcome {
    const encoded = encodeNode(image);
    if (!encoded.ok) return { kind: 'invalid', issues: encoded.issues };
    // fields[1] is the uuid's JSON text (payload order: id, uuid, ...).
    const id = messageId(scanIdentity, `${encoded.fields[1]}@${readTimeSeconds}`, 'resync');
    return notifyAt(id, '0', readTimeSeconds, 'compute_node.update', encoded.json, publisherJson(image), 'modify', [], 'resync');
  }

  /** Record → outcome. Throws ConfigurationError when the stream carries no images. */
  return Object.assign(build, { resync });

  function build(record: StreamRecord): BuildOutcome {
    switch (record.eventName) {
      case 'INSERT': {
        const image = requireImage(record, 'NewImage');
        if (isIssue(image)) return { kind: 'invalid', issues: [image] };
        const deleted = isSoftDeleted(image);
        if (deleted === true) return { kind: 'ignored', reason: 'inserted already soft-deleted' };
        if (deleted !== false) return { kind: 'invalid', issues: [deleted] };
        return create(record, image, 'insert');
      }
      case 'MODIFY': {
        const newImage = requireImage(record, 'NewImage');
        const oldImage = requireImage(record, 'OldImage');
        const issues = [newImage, oldImage].filter(isIssue);
        if (issues.length > 0) return { kind: 'invalid', issues };
        const was = isSoftDeleted(oldImage as Image);
        const now = isSoftDeleted(newImage as Image);
        if (now !== true && now !== false) return { kind: 'invalid', issues: [now] };
        if (was === true) {
          return now ? { kind: 'ignored', reason: 'node is soft-deleted' } : create(record, newImage as Image, 'undelete');
        }
        if (now) return remove(record, newImage as Image, 'soft_delete');
        return update(record, oldImage as Image, newImage as Image);
      }
      case 'REMOVE': {
        const image = requireImage(record, 'OldImage');
        if (isIssue(image)) return { kind: 'invalid', issues: [image] };
        if (isSoftDeleted(image) === true) return { kind: 'ignored', reason: 'node was already soft-deleted' };
        return remove(record, image, isTtlExpiry(record) ? 'ttl' : 'remove');
      }
    }
  }
}

function isIssue(x: Image | FieldIssue): x is FieldIssue {
  return typeof (x as FieldIssue).rule === 'string' && typeof (x as FieldIssue).field === 'string';
}

/** Same type and same text: equal without decoding (the common case for unchanged fields). */
function sameAttribute(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  for (const key in a) return key in b && a[key] === b[key];
  return false;
}

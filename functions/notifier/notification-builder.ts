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
  HEARTBEAT_ITEM_KEY,
  PRIORITY,
  PUBLISHER_PREFIX,
  RESYNC_MARKER_ATTRIBUTE,
  type ChangeBlock,
  type ComputeNodeField,
  type EventType,
} from './contract/index.js';
import { compileBucket } from './field-resolution.js';
import { novaJsonString } from './codec/nova-json-string.js';
import { novaTimestamp } from './codec/nova-timestamp.js';
import { isProblem } from './codec/attribute-codecs.js';
import { compileFields, compilePayloadEncoder } from './payload-encoder.js';
import { isSoftDeleted } from './soft-delete.js';
import { messageId } from './message-id.js';
import { createStreamEpochCache } from './stream-epoch.js';
import { createHeartbeatBuilder, type Heartbeat } from './heartbeat-event.js';
import { entrySize } from './put-events-entry.js';
import { ConfigurationError, type FieldIssue } from './errors.js';
import { isTtlExpiry, type Image, type StreamRecord } from './stream-record.js';
import type { NotifierConfig } from './config.js';
import { COMPUTE_NODE_TABLE } from '../compute-node-table-definition.js';
import { createWriterRegionCheck, type WriterRegionTally } from './writer-region.js';
import { beyond64Bits } from './rejection-issues.js';

const KEY_ATTRIBUTE = COMPUTE_NODE_TABLE.partitionKey.name;

export interface Notification {
  readonly eventType: EventType;
  readonly entry: PutEventsRequestEntry;
  /** Entry size as EventBridge counts it. */
  readonly size: number;
  /** `change.changed_fields`: watched fields whose value changed at their resolution (for a field with one, its bucket). */
  readonly changedFields: readonly string[];
}

export type BuildOutcome =
  | { readonly kind: 'notify'; readonly notification: Notification }
  /** A record of the reserved heartbeat item (contract/heartbeat.ts): never a compute node notification. */
  | { readonly kind: 'heartbeat'; readonly heartbeat: Heartbeat }
  | { readonly kind: 'suppressed' } // MODIFY with no watched field changed at its resolution (no new resync marker, and a valid old image)
  | { readonly kind: 'ignored'; readonly reason: string } // changes to a soft-deleted node
  /** Written in another region (config `writerRegion`, writer-region.ts): that region's notifier's to notify. */
  | { readonly kind: 'other_region'; readonly region: string }
  | { readonly kind: 'invalid'; readonly issues: readonly FieldIssue[] };

type Cause = ChangeBlock['cause'];

/**
 * Builds the record → notification function for a configuration; all set-up happens here.
 * `now` is the clock a heartbeat's `handled_at` is read on (the only thing not a function of the record).
 * `tally` counts the records without a writer region mark (with `writerRegion` only).
 */
export function createNotificationBuilder(
  config: Pick<NotifierConfig, 'eventBusName' | 'eventSource' | 'watchedFields' | 'publisherHostFallback'> & Partial<Pick<NotifierConfig, 'fieldResolutions' | 'writerRegion'>>,
  now: () => number = Date.now,
  tally?: WriterRegionTally,
) {
  const encodeNode = compilePayloadEncoder(ComputeNodePayload);
  const encodeDelete = compilePayloadEncoder(ComputeNodeDeletePayload);
  const nodeFields = compileFields(ComputeNodePayload);
  const resolutions = config.fieldResolutions ?? {};
  // A field with a resolution compares buckets (field-resolution.ts), compiled here once; an exact field compares values.
  const watched = nodeFields
    .map((f, index) => {
      const resolution = resolutions[f.name as ComputeNodeField];
      return { ...f, index, bucket: resolution === undefined ? undefined : compileBucket(resolution) };
    })
    .filter((f) => config.watchedFields.includes(f.name as never));
  // The other payload fields: read only to tell whether a suppressed update's old image was invalid.
  const unwatched = nodeFields.filter((f) => !watched.some((w) => w.name === f.name));
  const deleteFields = compileFields(ComputeNodeDeletePayload);
  const hostCodec = nodeFields.find((f) => f.name === 'host')!;
  const fallbackPublisher = novaJsonString(PUBLISHER_PREFIX + config.publisherHostFallback);
  if (fallbackPublisher === undefined) throw new ConfigurationError('PUBLISHER_HOST_FALLBACK: must be valid Unicode text');
  const { eventBusName, eventSource } = config;
  const epochOf = createStreamEpochCache();
  const heartbeat = createHeartbeatBuilder({ eventBusName, eventSource, epochOf, now });
  const writtenElsewhere = config.writerRegion === undefined ? undefined : createWriterRegionCheck(config.writerRegion, tally);

  /** `"nova-compute:<host>"` as JSON text; the fallback host where host is null, empty, absent or not a string. */
  function publisherJson(image: Image): string {
    const host = image[hostCodec.attribute];
    if (typeof host === 'object' && host !== null && typeof host.S === 'string' && host.S !== '') {
      return novaJsonString(PUBLISHER_PREFIX + host.S) ?? fallbackPublisher!;
    }
    return fallbackPublisher!;
  }

  /**
   * The notification of a stream record. `resyncRun` is the marker's value as JSON text for a
   * resync notification (origin `resync`), else `null`.
   */
  function notify(
    record: StreamRecord,
    eventType: EventType,
    payloadJson: string,
    publisher: string,
    cause: Cause,
    changed: readonly string[],
    resyncRun = 'null',
  ): BuildOutcome {
    const epoch = epochOf(record.eventSourceARN);
    if (typeof epoch !== 'string') return { kind: 'invalid', issues: [epoch] };
    const seconds = record.dynamodb.ApproximateCreationDateTime;
    const changedJson = changed.length === 0 ? '' : '"' + changed.join('","') + '"';
    const detail =
      `{"message_id":"${messageId(record.eventSourceARN, record.eventID)}","publisher_id":${publisher},` +
      `"event_type":"${eventType}","priority":"${PRIORITY}","payload":${payloadJson},"timestamp":"${novaTimestamp(seconds)}",` +
      `"change":{"sequence_number":"${record.dynamodb.SequenceNumber}","epoch":${epoch},"changed_fields":[${changedJson}],` +
      `"origin":"${resyncRun === 'null' ? 'stream' : 'resync'}","cause":"${cause}","resync_run":${resyncRun}}}`;
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

  /**
   * `oldDeletedBad`: the old image's `deleted` was malformed. An old image that was invalid was
   * quarantined, not notified, so consumers hold an older state than it: an update that puts the
   * node right is notified with its full state even when no watched field changed.
   */
  function update(record: StreamRecord, oldImage: Image, newImage: Image, oldDeletedBad: boolean): BuildOutcome {
    // The new image is validated whatever changed: a bad item is reported when it is written.
    // Its JSON is only built if a notification goes out (most updates change no watched field).
    const encoded = encodeNode.fields(newImage);
    if (!encoded.ok) return { kind: 'invalid', issues: encoded.issues };
    let changed: string[] | undefined;
    let refusedBefore = false;
    for (const f of watched) {
      const before = oldImage[f.attribute];
      const after = newImage[f.attribute];
      if (sameAttribute(before, after)) continue;
      const old = f.codec(before);
      const now = encoded.fields[f.index]!;
      if (isProblem(old) || (f.bucket === undefined ? old !== now : f.bucket(old) !== f.bucket(now))) (changed ??= []).push(f.name);
      // Within its bucket, but the old value was outside 64 bits: that record's entry was refused.
      else if (f.bucket !== undefined && beyond64Bits(old)) refusedBefore = true;
    }
    if (changed !== undefined) return notify(record, 'compute_node.update', encodeNode.json(encoded.fields), publisherJson(newImage), 'modify', changed);
    // No watched change: a new resync marker asks for the node's full state (a resync run's write).
    const run = newResyncMarker(oldImage, newImage);
    if (run !== undefined) return notify(record, 'compute_node.update', encodeNode.json(encoded.fields), publisherJson(newImage), 'modify', [], run);
    // A repair: what consumers hold is unknown, so no field is named changed (as a resync's full state).
    if (oldDeletedBad || refusedBefore || wasInvalid(oldImage, newImage)) return notify(record, 'compute_node.update', encodeNode.json(encoded.fields), publisherJson(newImage), 'modify', []);
    return { kind: 'suppressed' };
  }

  /**
   * Whether an unwatched field of the old image broke its rule or held an integer EventBridge
   * refuses (an invalid watched field already counts as changed). Such an attribute differs from
   * the new one (else the new image or its entry would fail too): only differing attributes are
   * decoded, which keeps a suppressed update cheap.
   */
  function wasInvalid(oldImage: Image, newImage: Image): boolean {
    for (let i = 0; i < unwatched.length; i++) {
      const f = unwatched[i]!;
      const before = oldImage[f.attribute];
      if (sameAttribute(before, newImage[f.attribute])) continue;
      // Invalid, or an integer EventBridge refused (outside 64 bits): either way not notified.
      const text = f.codec(before);
      if (isProblem(text) || beyond64Bits(text)) return true;
    }
    return false;
  }

  /** Whether a delete built from `image` would be published: its payload valid, its id within 64 bits (else quarantined). */
  function deleteNotifiable(image: Image): boolean {
    const encoded = encodeDelete.fields(image);
    return encoded.ok && !encoded.fields.some(beyond64Bits);
  }

  /**
   * Whether an update of a soft-deleted node puts right a delete that was quarantined: the old
   * image's delete was not published and the new one's would be. Only a differing delete
   * attribute can tell them apart, so most such updates decode nothing.
   */
  function deleteRepaired(oldImage: Image, newImage: Image): boolean {
    let differs = false;
    for (let i = 0; i < deleteFields.length && !differs; i++) differs = !sameAttribute(oldImage[deleteFields[i]!.attribute], newImage[deleteFields[i]!.attribute]);
    return differs && !deleteNotifiable(oldImage) && deleteNotifiable(newImage);
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

  /** Record → outcome. Throws ConfigurationError when the stream carries no images. */
  return build;

  function build(record: StreamRecord): BuildOutcome {
    // The reserved heartbeat item, whatever else is on it: one string compare on the key per record.
    // Lambda always sends Keys; the images stand in for a record that has none (hand-made ones).
    const d = record.dynamodb;
    if ((d.Keys ?? d.NewImage ?? d.OldImage)?.[KEY_ATTRIBUTE]?.S === HEARTBEAT_ITEM_KEY) {
      return record.eventName === 'REMOVE' ? { kind: 'ignored', reason: 'heartbeat item removed' } : { kind: 'heartbeat', heartbeat: heartbeat(record) };
    }
    // After the heartbeat (a control event, every region's notifier's), before anything is read of
    // the node: another region's write is its notifier's, valid or not.
    if (writtenElsewhere !== undefined) {
      const region = writtenElsewhere(record);
      if (region !== undefined) return { kind: 'other_region', region };
    }
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
          if (!now) return create(record, newImage as Image, 'undelete');
          // A soft delete whose delete payload (id, uuid) was invalid was quarantined, not notified:
          // consumers still hold the node live, so the write that makes it valid sends the delete.
          if (deleteRepaired(oldImage as Image, newImage as Image)) return remove(record, newImage as Image, 'soft_delete');
          return { kind: 'ignored', reason: 'node is soft-deleted' };
        }
        if (now) return remove(record, newImage as Image, 'soft_delete');
        return update(record, oldImage as Image, newImage as Image, was !== false);
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

/**
 * The resync marker's new value as JSON text when the record wrote one: the new image holds a
 * non-empty string marker that differs from the old image's. Undefined otherwise (no marker,
 * unchanged, removed, or not a string: such a change is not a resync run's and is suppressed
 * like any unwatched change).
 */
function newResyncMarker(oldImage: Image, newImage: Image): string | undefined {
  const after = newImage[RESYNC_MARKER_ATTRIBUTE];
  if (typeof after !== 'object' || after === null || typeof after.S !== 'string' || after.S === '') return undefined;
  if (sameAttribute(oldImage[RESYNC_MARKER_ATTRIBUTE], after)) return undefined;
  return novaJsonString(after.S);
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

/**
 * The notifier's side of a resync run (contract v2): a change of the resync marker alone
 * becomes a full-state `compute_node.update` with origin `resync`, carried by the record's
 * own sequence number, epoch and message id; every other combination follows the stream
 * rules. Also the epoch (from the stream ARN) and the message id (stream ARN + eventID).
 */
import { describe, expect, it } from 'vitest';
import { v5 } from 'uuid';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DETAIL_SCHEMAS, RESYNC_MARKER_ATTRIBUTE, SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';
import { MESSAGE_ID_NAMESPACE } from '../../functions/notifier/message-id.js';
import { createNotificationBuilder, type BuildOutcome } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { allAccepted, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, remove, STREAM_ARN, type Image } from '../support/records.js';

const RUN = '0b7c2d7e-41b5-4f0e-9d8e-3f6a1c2b9e01';
const OTHER_RUN = 'c3a1f0aa-5d2b-4c5e-8f11-0a9b8c7d6e5f';
const build = createNotificationBuilder({ eventBusName: 'b', eventSource: 'openstack.nova', watchedFields: SPEC_WATCHED_FIELDS, publisherHostFallback: 'fb' });
const run = (r: unknown): BuildOutcome => build(StreamRecord.parse(r));
const marked = (image: Image, runId: string = RUN): Image => ({ ...image, [RESYNC_MARKER_ATTRIBUTE]: { S: runId } });
const detailOf = (o: BuildOutcome) => {
  if (o.kind !== 'notify') throw new Error(`expected a notification, got ${JSON.stringify(o)}`);
  return JSON.parse(o.notification.entry.Detail!) as { message_id: string; timestamp: string; payload: unknown; change: Record<string, unknown> };
};

describe('a resync marker write', () => {
  it('alone: a full-state compute_node.update, origin resync, with the record\'s real sequence number, epoch and time', () => {
    const before = nodeImage(1);
    const record = modify(before, marked(before), { sequence: '000000000000000004711', time: 1795719970.5 });
    const outcome = run(record);
    const detail = detailOf(outcome);
    expect(detail.change).toEqual({
      sequence_number: '000000000000000004711',
      epoch: '2026-11-26T00:00:00.000',
      changed_fields: [],
      origin: 'resync',
      cause: 'modify',
      resync_run: RUN,
    });
    expect(detail.timestamp).toBe('2026-11-26 19:06:10.500000');
    if (outcome.kind !== 'notify') throw new Error();
    expect(outcome.notification.entry.DetailType).toBe('compute_node.update');
    expect(DETAIL_SCHEMAS['compute_node.update'].parse(detail)).toBeTruthy();
    // The payload is the one a create of the same image carries: the node's full state, no marker in it.
    expect(detail.payload).toEqual(detailOf(run(insert(before))).payload);
    expect(JSON.stringify(detail.payload)).not.toContain(RESYNC_MARKER_ATTRIBUTE);
  });

  it('replacing an earlier run\'s marker: a resync notification of the new run', () => {
    const before = marked(nodeImage(2), OTHER_RUN);
    expect(detailOf(run(modify(before, marked(before, RUN)))).change).toMatchObject({ origin: 'resync', resync_run: RUN });
  });

  it('together with a watched change: a normal stream update (origin stream, resync_run null)', () => {
    const before = nodeImage(3);
    const after = { ...marked(before), running_vms: { N: '7' } };
    expect(detailOf(run(modify(before, after))).change).toMatchObject({ origin: 'stream', cause: 'modify', changed_fields: ['running_vms'], resync_run: null });
  });

  it('together with unwatched changes only: still a resync notification (the payload is the full new state)', () => {
    const before = nodeImage(4);
    const after = { ...marked(before), free_ram_mb: { N: '100' } };
    const detail = detailOf(run(modify(before, after)));
    expect(detail.change).toMatchObject({ origin: 'resync', resync_run: RUN });
    expect((detail.payload as { 'nova_object.data': { free_ram_mb: number } })['nova_object.data'].free_ram_mb).toBe(100);
  });

  it('removed, rewritten with the same value, or not a non-empty string: suppressed', () => {
    const withMarker = marked(nodeImage(5));
    const { [RESYNC_MARKER_ATTRIBUTE]: _m, ...without } = withMarker;
    expect(run(modify(withMarker, without)).kind).toBe('suppressed');
    expect(run(modify(withMarker, { ...withMarker })).kind).toBe('suppressed');
    expect(run(modify(without, { ...without, [RESYNC_MARKER_ATTRIBUTE]: { N: '5' } })).kind).toBe('suppressed');
    expect(run(modify(without, { ...without, [RESYNC_MARKER_ATTRIBUTE]: { S: '' } })).kind).toBe('suppressed');
  });

  it('on a soft-deleted node: ignored; soft delete and undelete keep their rules', () => {
    const gone = nodeImage(6, { deleted: { N: '6' } });
    expect(run(modify(gone, marked(gone))).kind).toBe('ignored');
    const live = nodeImage(6, { deleted: { N: '0' } });
    expect(detailOf(run(modify(live, { ...marked(live), deleted: { N: '6' } }))).change).toMatchObject({ cause: 'soft_delete', origin: 'stream', resync_run: null });
    expect(detailOf(run(modify(gone, { ...marked(gone), deleted: { N: '0' } }))).change).toMatchObject({ cause: 'undelete', origin: 'stream', resync_run: null });
  });

  it('on an item the encoder rejects: invalid (quarantined), naming the field', () => {
    const bad = nodeImage(7, { vcpus: { N: '2.5' } });
    const outcome = run(modify(bad, marked(bad)));
    expect(outcome).toEqual({ kind: 'invalid', issues: [{ field: 'vcpus', value: { N: '2.5' }, rule: 'must be an integer, not a fraction' }] });
  });

  it('an INSERT or REMOVE carrying a marker is a normal create / delete', () => {
    expect(detailOf(run(insert(marked(nodeImage(8))))).change).toMatchObject({ origin: 'stream', cause: 'insert', resync_run: null });
    expect(detailOf(run(remove(marked(nodeImage(8))))).change).toMatchObject({ origin: 'stream', cause: 'remove', resync_run: null });
  });

  it('goes through the handler like any update: one PutEvents entry, nothing quarantined', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const before = nodeImage(9);
    const response = await h.invoke([modify(before, marked(before)), modify(marked(before), { ...marked(before), memory_mb_used: { N: '1' } })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sentEntries().map((e) => JSON.parse(e.Detail!).change.origin)).toEqual(['resync']);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('epoch', () => {
  it('is the stream label of eventSourceARN, and changes with the stream', () => {
    const image = nodeImage(10);
    const a = insert(image);
    const newer = { ...insert(image), eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2027-01-02T03:04:05.678' };
    expect(detailOf(run(a)).change.epoch).toBe('2026-11-26T00:00:00.000');
    expect(detailOf(run(newer)).change.epoch).toBe('2027-01-02T03:04:05.678');
    // Back to the first stream: the remembered label is not reused for another ARN.
    expect(detailOf(run(a)).change.epoch).toBe('2026-11-26T00:00:00.000');
  });

  it('is null for a record without eventSourceARN', () => {
    const { eventSourceARN: _arn, ...bare } = insert(nodeImage(11));
    expect(detailOf(run(bare)).change.epoch).toBeNull();
  });

  it('an eventSourceARN that is not a stream ARN makes the record invalid, naming the field and the value', () => {
    const r = { ...insert(nodeImage(12)), eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes' };
    expect(run(r)).toEqual({ kind: 'invalid', issues: [{ field: 'eventSourceARN', value: r.eventSourceARN, rule: 'must be a DynamoDB stream ARN ending in /stream/<label>' }] });
  });
});

describe('message_id', () => {
  it('is UUIDv5(stream ARN # eventID) in our namespace (computed independently with the uuid package)', () => {
    const r = insert(nodeImage(13));
    expect(detailOf(run(r)).message_id).toBe(v5(`${STREAM_ARN}#${r.eventID}`, MESSAGE_ID_NAMESPACE));
    const { eventSourceARN: _arn, ...bare } = r;
    expect(detailOf(run(bare)).message_id).toBe(v5(`#${r.eventID}`, MESSAGE_ID_NAMESPACE));
  });

  it('is the same for a retried record and differs for another eventID, even with the same sequence number', () => {
    const r = modify(nodeImage(14), marked(nodeImage(14)), { sequence: '000000000000000009999' });
    const retried = structuredClone(r);
    const otherShard = { ...structuredClone(r), eventID: 'another-event-id' };
    const otherStream = { ...structuredClone(r), eventSourceARN: STREAM_ARN.replace('2026-11-26', '2026-12-01') };
    const ids = [r, retried, otherShard, otherStream].map((x) => detailOf(run(x)).message_id);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
  });
});

/**
 * The heartbeat through the notifier: a record of the reserved item becomes exactly one
 * `hypervisor_notifier.heartbeat` event (its REMOVE none), never a `compute_node.*` event and
 * never a quarantined record, whatever else is written to the item; the lag is measured and
 * published as a metric.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import {
  HEARTBEAT_DETAIL_TYPE,
  HEARTBEAT_EVENT_VERSION,
  HEARTBEAT_ITEM_KEY,
  HEARTBEAT_WRITTEN_AT_ATTRIBUTE,
  HeartbeatDetail,
  RESYNC_MARKER_ATTRIBUTE,
  schemaFingerprint,
  SPEC_WATCHED_FIELDS,
} from '../../functions/notifier/contract/index.js';
import { messageId } from '../../functions/notifier/message-id.js';
import { METRIC } from '../../functions/notifier/metric-names.js';
import { createNotificationBuilder, type BuildOutcome } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, remove, STREAM_ARN, type Image } from '../support/records.js';

const HANDLED_AT = Date.parse('2026-12-04T19:02:03.250Z');
const build = createNotificationBuilder(
  { eventBusName: 'the-bus', eventSource: 'openstack.nova', watchedFields: SPEC_WATCHED_FIELDS, publisherHostFallback: 'fb' },
  () => HANDLED_AT,
);
const run = (r: unknown): BuildOutcome => build(StreamRecord.parse(r));

/** The reserved item: its key, when it was written, and whatever else `extra` puts on it. */
function heartbeatItem(writtenAt: string | undefined, extra: Image = {}): Image {
  return {
    ...extra,
    uuid: { S: HEARTBEAT_ITEM_KEY },
    ...(writtenAt === undefined ? {} : { [HEARTBEAT_WRITTEN_AT_ATTRIBUTE]: { S: writtenAt } }),
  };
}

// Anything a careless writer could put on the reserved item: a whole valid node's fields,
// bad values, a soft delete, a resync marker, a written time that is not a time.
const { uuid: _uuid, ...nodeFields } = nodeImage(7);
const extraArb: fc.Arbitrary<Image> = fc.record(
  {
    node: fc.constant(nodeFields),
    vcpus: fc.constantFrom<Image[string]>({ S: 'eight' }, { N: '8.5' }, { N: '9' }, { NULL: true }),
    deleted: fc.constantFrom<Image[string]>({ N: '1' }, { N: '0' }, { BOOL: true }, { S: 'x' }),
    marker: fc.uuid().map((u): Image[string] => ({ S: u })),
    running_vms: fc.integer({ min: 0, max: 50 }).map((n): Image[string] => ({ N: String(n) })),
  },
  { requiredKeys: [] },
).map(({ node, ...rest }) => ({
  ...(node ?? {}),
  ...(rest.vcpus === undefined ? {} : { vcpus: rest.vcpus }),
  ...(rest.deleted === undefined ? {} : { deleted: rest.deleted }),
  ...(rest.marker === undefined ? {} : { [RESYNC_MARKER_ATTRIBUTE]: rest.marker }),
  ...(rest.running_vms === undefined ? {} : { running_vms: rest.running_vms }),
}));
const writtenAtArb = fc.oneof(
  fc.integer({ min: HANDLED_AT - 600_000, max: HANDLED_AT }).map((ms) => new Date(ms).toISOString().replace('.000Z', 'Z')),
  fc.constantFrom(undefined, 'not a time', ''),
);
const heartbeatRecordArb = fc
  .record({ kind: fc.constantFrom('INSERT', 'MODIFY', 'REMOVE'), before: writtenAtArb, after: writtenAtArb, oldExtra: extraArb, newExtra: extraArb })
  .map(({ kind, before, after, oldExtra, newExtra }) =>
    kind === 'INSERT'
      ? insert(heartbeatItem(after, newExtra))
      : kind === 'MODIFY'
        ? modify(heartbeatItem(before, oldExtra), heartbeatItem(after, newExtra))
        : remove(heartbeatItem(before, oldExtra)),
  );

/** The ms a valid written time stands for; undefined for anything else. */
function writtenMs(record: { dynamodb: { NewImage?: Image } }): number | undefined {
  const s = record.dynamodb.NewImage?.[HEARTBEAT_WRITTEN_AT_ATTRIBUTE]?.S;
  if (typeof s !== 'string' || !/^\d{4}-\d\d-\d\dT/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

describe('the builder and the reserved item', () => {
  it('the reserved key is no UUID in any spelling', () => {
    expect(HEARTBEAT_ITEM_KEY).not.toMatch(/^[0-9a-f-]+$/i);
  });

  it('INSERT and MODIFY: one heartbeat event with the record\'s identity, the written and handled times and the lag; REMOVE: nothing; never a notification or an invalid record', () => {
    fc.assert(
      fc.property(heartbeatRecordArb, (record) => {
        const outcome = run(record);
        if (record.eventName === 'REMOVE') {
          expect(outcome.kind).toBe('ignored');
          return;
        }
        if (outcome.kind !== 'heartbeat') throw new Error(`expected a heartbeat, got ${JSON.stringify(outcome)}`);
        const { entry } = outcome.heartbeat;
        expect(entry.DetailType).toBe(HEARTBEAT_DETAIL_TYPE);
        expect(entry.Source).toBe('openstack.nova');
        expect(entry.EventBusName).toBe('the-bus');
        const detail = HeartbeatDetail.parse(JSON.parse(entry.Detail!));
        const written = writtenMs(record);
        expect(detail).toEqual({
          message_id: messageId(STREAM_ARN, record.eventID),
          written_at: written === undefined ? null : new Date(written).toISOString(),
          handled_at: new Date(HANDLED_AT).toISOString(),
          epoch: '2026-11-26T00:00:00.000',
          sequence_number: record.dynamodb.SequenceNumber,
          lag_ms: written === undefined ? null : HANDLED_AT - written,
        });
        expect(outcome.heartbeat.writtenAt).toBe(written);
      }),
      { numRuns: 300 },
    );
  });

  it('a node record next to it is untouched: still its compute_node event', () => {
    expect(run(insert(nodeImage(3))).kind).toBe('notify');
  });

  it('the heartbeat event\'s fields match the recorded fingerprint (bump HEARTBEAT_EVENT_VERSION and its history to change them)', () => {
    expect(schemaFingerprint(HEARTBEAT_EVENT_VERSION, HeartbeatDetail)).toBe('1-2e7061bff37da6cae9f6c3419c050aff');
  });
});

describe('the notifier and heartbeat records in a batch', () => {
  const NOW = HANDLED_AT + 1_500;
  const nodeRecordArb = fc.integer({ min: 1, max: 40 }).chain((n) =>
    fc.constantFrom(insert(nodeImage(n)), modify(nodeImage(n), nodeImage(n, { running_vms: { N: '9' } })), remove(nodeImage(n)), insert(nodeImage(n, { vcpus: { S: 'bad' } }))),
  );

  it('exactly one heartbeat event per heartbeat INSERT or MODIFY, none for a REMOVE, no compute_node event or quarantine of the item, its lag as a metric', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(heartbeatRecordArb, nodeRecordArb), { minLength: 1, maxLength: 30 }), async (generated) => {
        // Fresh records: each with its own sequence number, as on a shard.
        const records = generated.map((r) => structuredClone(r)).map((r, i) => ({ ...r, eventID: `ev-${i}`, dynamodb: { ...r.dynamodb, SequenceNumber: String(1000 + i) } }));
        const h = harness({}, { now: () => NOW });
        h.eb.on(PutEventsCommand).callsFake(allAccepted);
        h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
        const response = await h.invoke(records);
        expect(response.batchItemFailures).toEqual([]);

        const isHeartbeatItem = (r: (typeof records)[number]) => (r.dynamodb.NewImage ?? r.dynamodb.OldImage)?.uuid?.S === HEARTBEAT_ITEM_KEY;
        const beats = records.filter((r) => isHeartbeatItem(r) && r.eventName !== 'REMOVE');
        const sent = h.sentEntries();
        const heartbeatEvents = sent.filter((e) => e.DetailType === HEARTBEAT_DETAIL_TYPE).map((e) => HeartbeatDetail.parse(JSON.parse(e.Detail!)));
        expect(heartbeatEvents.map((d) => d.sequence_number).sort()).toEqual(beats.map((r) => r.dynamodb.SequenceNumber).sort());
        for (const e of sent.filter((x) => x.DetailType !== HEARTBEAT_DETAIL_TYPE)) expect(e.Detail).not.toContain(HEARTBEAT_ITEM_KEY);
        for (const q of h.quarantined()) expect(JSON.stringify(q)).not.toContain(HEARTBEAT_ITEM_KEY);

        const lags = beats.map(writtenMs).filter((w) => w !== undefined).map((w) => NOW - w);
        const emf = h.emitted.map((line) => JSON.parse(line) as Record<string, unknown>);
        const published = emf.map((m) => m[METRIC.heartbeatsPublished]).filter((v) => v !== undefined);
        expect(published).toEqual(beats.length === 0 ? [] : [beats.length]);
        const lagValues = emf.flatMap((m) => (m[METRIC.heartbeatLag] === undefined ? [] : [m[METRIC.heartbeatLag]].flat()));
        expect(lagValues).toEqual(lags);
      }),
      { numRuns: 100 },
    );
  });

  it('a heartbeat PutEvents refused is handed back to Lambda like any record: no metric of a heartbeat that was not published', async () => {
    const h = harness({}, { now: () => NOW });
    h.eb.on(PutEventsCommand).rejects(Object.assign(new Error('no access'), { name: 'AccessDeniedException' }));
    const record = insert(heartbeatItem('2026-12-04T19:02:00Z'));
    const response = await h.invoke([record]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.dynamodb.SequenceNumber }]);
    expect(h.quarantined()).toEqual([]);
    expect(h.emitted.join('\n')).not.toContain(METRIC.heartbeatLag);
  });
});

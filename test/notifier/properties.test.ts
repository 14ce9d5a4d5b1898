/**
 * Property-based tests of the two promises the notifier makes: updates are sent exactly when
 * a watched field changed, and whatever fails, no record is dropped silently.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, type Image } from '../support/records.js';
import { ComputeNodePayload, SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';

const PAYLOAD_ORDER = Object.keys(ComputeNodePayload.fields);

const WATCHED = new Set<string>(SPEC_WATCHED_FIELDS);
const INTEGER_FIELDS = ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'running_vms', 'current_workload', 'disk_available_least'];
const NULLABLE = new Set(['free_ram_mb', 'running_vms', 'current_workload', 'disk_available_least', 'hypervisor_hostname']);

/** One field edit: a value from a small range, spelled as DynamoDB might spell it. */
const edit = fc.oneof(
  fc.record({
    field: fc.constantFrom(...INTEGER_FIELDS),
    value: fc.integer({ min: 0, max: 3 }),
    spelling: fc.constantFrom('plain', 'fraction', 'exponent'),
    toNull: fc.boolean(),
  }),
  fc.record({ field: fc.constant('hypervisor_hostname'), value: fc.integer({ min: 0, max: 2 }), spelling: fc.constant('plain'), toNull: fc.boolean() }),
);

function apply(image: Image, e: { field: string; value: number; spelling: string; toNull: boolean }): Image {
  if (e.toNull && NULLABLE.has(e.field)) return { ...image, [e.field]: { NULL: true } };
  if (e.field === 'hypervisor_hostname') return { ...image, [e.field]: { S: `h${e.value}.example.org` } };
  const text = e.spelling === 'fraction' ? `${e.value}.0` : e.spelling === 'exponent' ? `${e.value * 10}E-1` : String(e.value);
  return { ...image, [e.field]: { N: text } };
}

/** What a field means, however it is spelled: the oracle for "changed". */
function meaning(v: Image[string] | undefined): string {
  if (v === undefined || 'NULL' in v) return 'null';
  if ('N' in v) return String(Number(v.N));
  return `s:${(v as { S: string }).S}`;
}

describe('update suppression', () => {
  it('sends an update exactly when a watched field changed, naming exactly those fields', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }), async (steps) => {
        const h = harness();
        h.eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
        let image = nodeImage(1);
        const records = [];
        const expected: string[][] = [];
        for (const edits of steps) {
          const next = edits.reduce(apply, image);
          const changed = Object.keys(next).filter((f) => WATCHED.has(f) && meaning(image[f]) !== meaning(next[f]));
          if (changed.length > 0) expected.push(PAYLOAD_ORDER.filter((f) => changed.includes(f)));
          records.push(modify(image, next));
          image = next;
        }
        const response = await h.invoke(records);
        expect(response.batchItemFailures).toEqual([]);
        const sent = h.sentEntries().map((e) => JSON.parse(e.Detail!).change.changed_fields as string[]);
        expect(sent).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});

const markerStep = fc.constantFrom<'keep' | 'remove' | 'run-a' | 'run-b'>('keep', 'keep', 'remove', 'run-a', 'run-b');

describe('resync markers among updates', () => {
  it('a watched change wins (stream update); else a new marker value yields a resync notification of that run; else nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(edit, { maxLength: 2 }), markerStep), { minLength: 1, maxLength: 12 }), async (steps) => {
        const h = harness();
        h.eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
        let image = nodeImage(1);
        const records = [];
        const expected: Array<{ origin: string; changed_fields: string[]; resync_run: string | null }> = [];
        for (const [edits, marker] of steps) {
          let next = edits.reduce(apply, image);
          if (marker === 'remove') {
            const { resync_run: _gone, ...rest } = next;
            next = rest;
          } else if (marker !== 'keep') {
            next = { ...next, resync_run: { S: marker } };
          }
          const changed = Object.keys(next).filter((f) => WATCHED.has(f) && meaning(image[f]) !== meaning(next[f]));
          const newMarker = next.resync_run?.S !== undefined && next.resync_run.S !== image.resync_run?.S ? next.resync_run.S : undefined;
          if (changed.length > 0) expected.push({ origin: 'stream', changed_fields: PAYLOAD_ORDER.filter((f) => changed.includes(f)), resync_run: null });
          else if (newMarker !== undefined) expected.push({ origin: 'resync', changed_fields: [], resync_run: newMarker });
          records.push(modify(image, next));
          image = next;
        }
        const response = await h.invoke(records);
        expect(response.batchItemFailures).toEqual([]);
        const sent = h.sentEntries().map((e) => {
          const { origin, changed_fields, resync_run } = JSON.parse(e.Detail!).change;
          return { origin, changed_fields, resync_run };
        });
        expect(sent).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});

type Fate = 'ok' | 'ThrottlingException' | 'InternalFailure' | 'MalformedDetail';
const fate = fc.constantFrom<Fate>('ok', 'ok', 'ok', 'ThrottlingException', 'InternalFailure', 'MalformedDetail');
const call = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('answer' as const), fates: fc.array(fate, { minLength: 10, maxLength: 10 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'network' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'denied' as const }) },
);
const sqsCall = fc.constantFrom('ok', 'ok', 'transient', 'broken');

describe('nothing is lost', () => {
  it('every record ends published, quarantined, suppressed, or at/after the reported batch item failure', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('create', 'invalid', 'unwatched'), { minLength: 1, maxLength: 35 }),
        fc.array(call, { minLength: 1, maxLength: 40 }),
        fc.array(sqsCall, { minLength: 1, maxLength: 10 }),
        async (kinds, ebScript, sqsScript) => {
          const h = harness();
          const records = kinds.map((k, i) => {
            const image = nodeImage(i + 1);
            if (k === 'invalid') return insert(nodeImage(i + 1, { vcpus: { N: '1.5' } }));
            if (k === 'unwatched') return modify(image, { ...image, memory_mb_used: { N: '1' } });
            return insert(image);
          });
          const published = new Set<number>();
          let ebCalls = 0;
          h.eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
            const step = ebScript[ebCalls++ % ebScript.length]!;
            if (step.kind === 'network') throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
            if (step.kind === 'denied') throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
            const entries = input.Entries.map((e, i) => {
              const f = step.fates[i]!;
              if (f === 'ok') published.add(JSON.parse(e.Detail).payload['nova_object.data'].id - 1);
              return f === 'ok' ? { EventId: 'x' } : { ErrorCode: f, ErrorMessage: f };
            });
            return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
          });
          const quarantined = new Set<number>();
          let sqsCalls = 0;
          h.sq.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
            const step = sqsScript[sqsCalls++ % sqsScript.length]!;
            if (step === 'broken') throw Object.assign(new Error('gone'), { name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
            if (step === 'transient') return { Successful: [], Failed: input.Entries.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })) };
            for (const e of input.Entries) quarantined.add(Number(e.Id));
            return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })), Failed: [] };
          });

          const response = await h.invoke(records);
          const failures = response.batchItemFailures.map((f) => records.findIndex((r) => r.dynamodb.SequenceNumber === f.itemIdentifier));
          expect(failures.length).toBeLessThanOrEqual(1);
          expect(failures.every((i) => i >= 0)).toBe(true);
          const retryFrom = failures[0] ?? records.length;
          records.forEach((_, i) => {
            if (i >= retryFrom) return;
            const done = kinds[i] === 'unwatched' || published.has(i) || quarantined.has(i);
            expect(done, `record ${i} (${kinds[i]}) was dropped`).toBe(true);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

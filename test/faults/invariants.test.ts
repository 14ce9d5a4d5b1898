/**
 * The checker itself: it passes a clean run, and each invariant fails when the observation
 * is doctored to break it (so the fault tests that rely on it can fail).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { seededRandom } from '../../local/seeded-random.js';
import type { DeliveredEvent } from '../../local/targets.js';
import { ComputeNodePayload, SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';
import { createNotificationBuilder, type BuildOutcome } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import {
  canonicalNumber,
  checkInvariants,
  describeReport,
  expectationFor,
  MARKER,
  PAYLOAD_FIELD_TYPES,
  WATCHED_FIELDS,
  type Expectation,
  type Image,
  type Observation,
} from './invariants.js';
import { FakeTable, LambdaRuntime, nodeItem, observeFake, randomWorkload, runShard, startLocalServices } from './support.js';

let clean: Observation;
let table: FakeTable;

beforeAll(async () => {
  const services = await startLocalServices();
  const runtime = new LambdaRuntime({ config: services.config(), busEndpoint: services.bus.endpoint, sqsEndpoint: services.sqs.endpoint });
  try {
    table = new FakeTable();
    await randomWorkload(table, { nodes: 12, writes: 150, random: seededRandom(11), invalidRate: 0.08 });
    const run = await runShard(table.records, runtime.handler, { batchSize: 40 });
    clean = structuredClone(observeFake('clean', table, services, run));
  } finally {
    runtime.close();
    await services.close();
  }
});

const detail = (e: DeliveredEvent) => e.detail as { message_id: string; change: { sequence_number: string; changed_fields: string[]; cause: string } };
const check = (o: Partial<Observation>) => checkInvariants({ ...clean, ...o }, { recordExpectations: table.expectations });

describe('the invariant checker', () => {
  it('passes a clean run, which has creates, updates, deletes, suppressed and quarantined records', () => {
    const r = check({});
    expect(r.violations, describeReport(r)).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.expected).toBe(r.delivered);
    expect(r.expectedQuarantined).toBeGreaterThan(0);
    const types = new Set(clean.delivered.map((e) => e['detail-type']));
    expect(types).toEqual(new Set(['compute_node.create', 'compute_node.update', 'compute_node.delete']));
  });

  it('counts a lost notification', () => {
    const r = check({ delivered: clean.delivered.slice(1) });
    expect(r.lost).toBe(1);
    expect(r.violations[0]).toMatch(/^LOST record .*expected compute_node.create/);
  });

  it('counts a duplicate, and flags a message id delivered with two different details', () => {
    const dup = check({ delivered: [...clean.delivered, clean.delivered[3]!] });
    expect(dup.duplicates).toBe(1);
    expect(dup.violations).toEqual([]);
    const altered = structuredClone(clean.delivered[3]!);
    (altered.detail as { timestamp: string }).timestamp = '2000-01-01 00:00:00';
    expect(check({ delivered: [...clean.delivered, altered] }).violations.join('\n')).toMatch(/two different details/);
  });

  it("flags a resync run's notification delivered as a stream one, and the reverse", () => {
    const resync = clean.delivered.find((e) => (e.detail as { change: { origin: string } }).change.origin === 'resync');
    const stream = clean.delivered.find((e) => e['detail-type'] === 'compute_node.update' && (e.detail as { change: { origin: string } }).change.origin === 'stream');
    expect(resync, 'the workload writes resync markers').toBeDefined();
    const asStream = structuredClone(resync!);
    Object.assign((asStream.detail as { change: object }).change, { origin: 'stream', resync_run: null });
    expect(check({ delivered: clean.delivered.map((e) => (e === resync ? asStream : e)) }).violations.join('\n')).toMatch(/expected origin resync and resync_run run-\d, delivered stream and null/);
    const asResync = structuredClone(stream!);
    Object.assign((asResync.detail as { change: object }).change, { origin: 'resync', resync_run: 'run-1' });
    expect(check({ delivered: clean.delivered.map((e) => (e === stream ? asResync : e)) }).violations.join('\n')).toMatch(/expected origin stream and resync_run null, delivered resync and run-1/);
  });

  it("flags a resync run whose end event announces fewer nodes than its notifications are about", () => {
    const runs = new Map<string, Set<string>>();
    for (const e of clean.delivered) {
      const d = e.detail as { change: { resync_run?: string | null }; payload: { 'nova_object.data': { uuid: string } } };
      if (typeof d.change.resync_run === 'string') runs.set(d.change.resync_run, (runs.get(d.change.resync_run) ?? new Set()).add(d.payload['nova_object.data'].uuid));
    }
    const [run, nodes] = [...runs].sort((a, b) => b[1].size - a[1].size)[0]!;
    expect(nodes.size, 'the workload writes resync markers').toBeGreaterThan(0);
    const end = (refreshed: number): DeliveredEvent => ({
      ...clean.delivered[0]!,
      'detail-type': 'hypervisor_notifier.resync_run',
      detail: { run_id: run, phase: 'end', started_at: '2026-11-26 19:06:02', refreshed },
    });
    expect(check({ delivered: [...clean.delivered, end(nodes.size)] }).violations).toEqual([]);
    expect(check({ delivered: [...clean.delivered, end(nodes.size + 3)] }).violations).toEqual([]);
    expect(check({ delivered: [...clean.delivered, end(nodes.size - 1)] }).violations.join('\n')).toMatch(
      new RegExp(`resync run ${run} announced ${nodes.size - 1} nodes refreshed, its notifications are about ${nodes.size}`),
    );
  });

  it('flags a notification no record should have produced, and wrong changed fields', () => {
    const update = clean.delivered.find((e) => e['detail-type'] === 'compute_node.update')!;
    const wrong = structuredClone(update);
    detail(wrong).change.changed_fields = ['vcpus'];
    const r = check({ delivered: clean.delivered.map((e) => (e === update ? wrong : e)) });
    expect(r.violations.join('\n')).toMatch(/expected changed_fields/);
    // A notification for a suppressed record.
    const suppressed = table.records.find((rec) => expectationFor(rec, { recordExpectations: table.expectations }).kind === 'nothing')!;
    const spurious = structuredClone(update);
    detail(spurious).message_id = 'spurious';
    detail(spurious).change.sequence_number = suppressed.dynamodb.SequenceNumber;
    expect(check({ delivered: [...clean.delivered, spurious] }).violations.join('\n')).toMatch(/expected no notification/);
  });

  it('counts a rejected record missing from the quarantine', () => {
    const r = check({ quarantined: clean.quarantined.slice(1) });
    expect(r.lost).toBe(1);
    expect(r.violations.join('\n')).toMatch(/expected in quarantine/);
  });

  it("flags a node whose last notification is not the table's final state", () => {
    const live = [...clean.table.entries()].find(([, item]) => item.deleted?.N === '0' && item.fault_expect === undefined)!;
    const table2 = new Map(clean.table);
    table2.set(live[0], { ...live[1], running_vms: { N: '999' } } as Image);
    expect(check({ table: table2 }).violations.join('\n')).toMatch(/running_vms is n:999e0 in the table/);
    const gone = new Map(clean.table);
    gone.delete(live[0]);
    expect(check({ table: gone }).violations.join('\n')).toMatch(/deleted in the table, but its last notification is/);
  });

  it('flags a mapping that has not caught up', () => {
    expect(check({ progress: { read: clean.records.length, done: clean.records.length - 5 } }).violations).toEqual(['5 records read but not finished (a batch pending)']);
    expect(check({ progress: { read: 3, done: 3 } }).violations[0]).toMatch(/read 3 of the stream's/);
  });

  it('compares numbers by meaning, exactly', () => {
    expect(canonicalNumber('8')).toBe(canonicalNumber('8.0'));
    expect(canonicalNumber('80E-1')).toBe(canonicalNumber('0.8e1'));
    expect(canonicalNumber('0')).toBe(canonicalNumber('-0.000'));
    expect(canonicalNumber('9007199254740993')).not.toBe(canonicalNumber('9007199254740992'));
    expect(canonicalNumber('1E+125')).toBe('1e125');
  });

  it('expects what docs/event-contract.md promises for each kind of change', () => {
    const t = new FakeTable();
    const a = nodeItem(1);
    const uuid = a.uuid!.S as string;
    const records = [
      t.put(a),
      t.put({ ...a, memory_mb_used: { N: '1' } }),
      t.put({ ...a, memory_mb_used: { N: '1' }, vcpus: { N: '64.0' } }),
      t.put({ ...a, memory_mb_used: { N: '1' }, vcpus: { N: '64.0' }, running_vms: { N: '3' }, vcpus_used: { N: '9' } }),
      // vcpus_used is required (Integer, not nullable): the record is quarantined, naming it.
      t.update(uuid, { running_vms: { N: '4' }, vcpus_used: { NULL: true } }),
      // A soft delete reads only id and uuid, so it is notified even with vcpus_used NULL.
      t.update(uuid, { deleted: { N: '1' } }),
      t.update(uuid, { running_vms: { N: '5' } }),
      // An undelete is a create: every field is validated again.
      t.update(uuid, { deleted: { N: '0' } }),
      t.update(uuid, { vcpus_used: { N: '10' } }),
      t.remove(uuid),
    ];
    const expected: Expectation[] = [
      { kind: 'notify', type: 'compute_node.create', cause: 'insert', changed: [] },
      { kind: 'nothing', why: 'no watched field changed' },
      { kind: 'nothing', why: 'no watched field changed' },
      { kind: 'notify', type: 'compute_node.update', cause: 'modify', changed: ['vcpus_used', 'running_vms'] },
      { kind: 'quarantine', reason: 'invalid_record', fields: ['vcpus_used'] },
      { kind: 'notify', type: 'compute_node.delete', cause: 'soft_delete', changed: [] },
      { kind: 'nothing', why: 'change to a soft-deleted node' },
      { kind: 'quarantine', reason: 'invalid_record', fields: ['vcpus_used'] },
      { kind: 'notify', type: 'compute_node.update', cause: 'modify', changed: ['vcpus_used'] },
      { kind: 'notify', type: 'compute_node.delete', cause: 'remove', changed: [] },
    ];
    expect(records.map((r) => expectationFor(r!))).toEqual(expected);
    // And the notifier's own builder agrees, record by record.
    expect(records.map((r) => verdictOfBuilder(build(StreamRecord.parse(r))))).toEqual(expected.map(verdictOfOracle));
  });

  it("knows the payload's field types and the watched fields as the contract defines them", () => {
    const contract = Object.fromEntries(Object.entries(ComputeNodePayload.fields).map(([name, f]) => [name, { kind: f.kind, nullable: f.nullable }]));
    expect(PAYLOAD_FIELD_TYPES).toEqual(contract);
    expect([...WATCHED_FIELDS].sort()).toEqual([...SPEC_WATCHED_FIELDS].sort());
  });

  it('property: for any record, the oracle predicts what the real notification builder does', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(recordArbitrary, (record) => {
        const oracle = verdictOfOracle(expectationFor(record));
        const actual = verdictOfBuilder(build(StreamRecord.parse(record)));
        expect(actual).toEqual(oracle);
        seen.add(oracle.kind === 'notify' ? `${oracle.type} ${oracle.cause}${oracle.resyncRun === null ? '' : ' (resync)'}` : oracle.kind);
      }),
      { numRuns: 2_000 },
    );
    // The generated records reach every row of docs/event-contract.md's table.
    expect([...seen].sort()).toEqual([
      'compute_node.create insert',
      'compute_node.create undelete',
      'compute_node.delete remove',
      'compute_node.delete soft_delete',
      'compute_node.update modify',
      'compute_node.update modify (resync)',
      'ignored',
      'invalid',
      'suppressed',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The oracle against the notifier's builder

const build = createNotificationBuilder({ eventBusName: 'bus', eventSource: 'openstack.nova', watchedFields: SPEC_WATCHED_FIELDS, publisherHostFallback: 'fallback' });

/** What both sides decide about a record, in one comparable form. */
type Verdict =
  | { kind: 'notify'; type: string; cause: string; changed: readonly string[]; origin: string; resyncRun: string | null }
  | { kind: 'suppressed' }
  | { kind: 'ignored' }
  | { kind: 'invalid'; fields: readonly string[] };

function verdictOfOracle(e: Expectation): Verdict {
  switch (e.kind) {
    case 'notify':
      return { kind: 'notify', type: e.type, cause: e.cause, changed: e.changed, origin: e.resyncRun === undefined ? 'stream' : 'resync', resyncRun: e.resyncRun ?? null };
    case 'nothing':
      return e.why === 'no watched field changed' ? { kind: 'suppressed' } : { kind: 'ignored' };
    case 'quarantine':
      if (e.reason !== 'invalid_record') throw new Error(`the builder does not decide ${e.reason}`);
      return { kind: 'invalid', fields: [...new Set(e.fields)].sort() };
    case 'on_failure':
      throw new Error(`the builder does not decide on_failure (${e.why})`);
  }
}

function verdictOfBuilder(o: BuildOutcome): Verdict {
  switch (o.kind) {
    case 'notify': {
      const detail = JSON.parse(o.notification.entry.Detail!) as { change: { cause: string; changed_fields: string[]; origin: string; resync_run: string | null } };
      const c = detail.change;
      return { kind: 'notify', type: o.notification.eventType, cause: c.cause, changed: c.changed_fields, origin: c.origin, resyncRun: c.resync_run };
    }
    case 'suppressed':
      return { kind: 'suppressed' };
    case 'ignored':
      return { kind: 'ignored' };
    case 'invalid':
      return { kind: 'invalid', fields: [...new Set(o.issues.map((i) => i.field))].sort() };
    case 'heartbeat':
      throw new Error('the generated records never write the reserved heartbeat item');
    case 'other_region':
      throw new Error('the builder here has no writer region option');
  }
}

type Attr = Image[string] | undefined;

/** Values of one payload field: mostly valid (equal, respelled or changed), sometimes NULL, missing, mistyped or a fraction. */
function fieldArbitrary(name: string, base: Attr): fc.Arbitrary<Attr> {
  const { kind } = PAYLOAD_FIELD_TYPES[name]!;
  const valid: fc.Arbitrary<Attr>[] = [fc.constant(base)];
  if (kind === 'Integer') {
    valid.push(fc.integer({ min: -2, max: 3 }).map((n) => ({ N: String(n) })));
    valid.push(fc.integer({ min: 0, max: 3 }).map((n) => ({ N: `${n}.0` })));
    if (base?.N !== undefined) valid.push(fc.constantFrom({ N: `${String(base.N)}.00` }, { N: `${String(base.N)}0E-1` }));
  } else if (kind === 'String') valid.push(fc.constantFrom({ S: 'a' }, { S: 'b' }, { S: '' }));
  else if (kind === 'IPAddress') valid.push(fc.constantFrom({ S: '10.0.0.1' }, { S: '2001:db8::1' }));
  const broken: fc.Arbitrary<Attr>[] = [
    fc.constant({ NULL: true }),
    fc.constant(undefined),
    fc.constant(kind === 'Integer' ? { S: '5' } : { N: '5' }),
    fc.constant(kind === 'Integer' ? { N: '1.5' } : { BOOL: true }),
  ];
  return fc.oneof({ weight: 12, arbitrary: fc.oneof(...valid) }, { weight: 1, arbitrary: fc.oneof(...broken) });
}

const deletedArbitrary: fc.Arbitrary<Attr> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Attr>({ N: '0' }, undefined, { NULL: true }, { BOOL: false }, { N: '0.0' }) },
  { weight: 3, arbitrary: fc.constantFrom<Attr>({ N: '7' }, { BOOL: true }, { N: '1E1' }) },
  { weight: 1, arbitrary: fc.constantFrom<Attr>({ S: 'yes' }, { N: '0.5' }) },
);

// A resync run's marker: mostly absent or a run id, sometimes empty or not a string (neither asks for a resync).
const markerArbitrary: fc.Arbitrary<Attr> = fc.constantFrom<Attr>(undefined, undefined, { S: 'run-1' }, { S: 'run-2' }, { S: '' }, { N: '1' });

const BASE = nodeItem(5);
const imageArbitrary: fc.Arbitrary<Image> = fc
  .record({
    ...Object.fromEntries(Object.keys(PAYLOAD_FIELD_TYPES).map((name) => [name, fieldArbitrary(name, BASE[name])])),
    deleted: deletedArbitrary,
    [MARKER]: markerArbitrary,
  })
  .map((image) => Object.fromEntries(Object.entries(image).filter(([, v]) => v !== undefined)) as Image);

const ATTRIBUTES = [...Object.keys(PAYLOAD_FIELD_TYPES), 'deleted', MARKER, MARKER];

const recordArbitrary = fc
  .tuple(
    fc.constantFrom('INSERT', 'MODIFY', 'MODIFY', 'MODIFY', 'REMOVE'),
    fc.oneof(fc.constant(BASE), imageArbitrary),
    imageArbitrary,
    fc.option(fc.uniqueArray(fc.constantFrom(...ATTRIBUTES), { maxLength: 3 }), { freq: 3 }),
  )
  .map(([eventName, old, other, touched]) => {
    // Mostly a write of a few attributes of the old image (so a single change decides), else a whole new image.
    let newImage = other;
    if (touched !== null) {
      const next: Record<string, Attr> = { ...old };
      for (const name of touched) next[name] = other[name];
      newImage = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) as Image;
    }
    const images = eventName === 'INSERT' ? { NewImage: newImage } : eventName === 'REMOVE' ? { OldImage: old } : { OldImage: old, NewImage: newImage };
    return {
      eventID: 'ev-1',
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/compute-nodes/stream/2026-11-26T00:00:00.000',
      dynamodb: {
        ApproximateCreationDateTime: 1_795_719_960,
        Keys: { uuid: BASE.uuid! },
        ...images,
        SequenceNumber: '100000000000000000001',
        SizeBytes: 512,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  });


describe('the oracle at resolutions', () => {
  it('property: with fields watched at a resolution, the oracle (changed = another bucket) predicts the real builder', () => {
    const resolutions = { vcpus_used: 2, running_vms: 100, local_gb_used: 100, disk_available_least: 3 } as const;
    const atResolution = createNotificationBuilder({ eventBusName: 'bus', eventSource: 'openstack.nova', watchedFields: SPEC_WATCHED_FIELDS, publisherHostFallback: 'fallback', fieldResolutions: resolutions });
    let suppressedOnlyAtResolution = 0;
    fc.assert(
      fc.property(recordArbitrary, (record) => {
        const oracle = verdictOfOracle(expectationFor(record, { fieldResolutions: resolutions }));
        expect(verdictOfBuilder(atResolution(StreamRecord.parse(record)))).toEqual(oracle);
        if (oracle.kind === 'suppressed' && verdictOfOracle(expectationFor(record)).kind === 'notify') suppressedOnlyAtResolution++;
      }),
      { numRuns: 2_000 },
    );
    // The generated records do move values within a bucket (the case resolution changes).
    expect(suppressedOnlyAtResolution).toBeGreaterThan(0);
  });
});

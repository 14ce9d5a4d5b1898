/**
 * The checker itself: it passes a clean run, and each invariant fails when the observation
 * is doctored to break it (so the fault tests that rely on it can fail).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../local/seeded-random.js';
import type { DeliveredEvent } from '../../local/targets.js';
import { canonicalNumber, checkInvariants, describeReport, expectationFor, type Image, type Observation } from './invariants.js';
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

  it('expects what the README promises for each kind of change', () => {
    const t = new FakeTable();
    const a = nodeItem(1);
    const records = [
      t.put(a),
      t.put({ ...a, memory_mb_used: { N: '1' } }),
      t.put({ ...a, memory_mb_used: { N: '1' }, vcpus: { N: '64.0' } }),
      t.put({ ...a, memory_mb_used: { N: '1' }, vcpus: { N: '64.0' }, running_vms: { N: '3' }, vcpus_used: { NULL: true } }),
      t.update(a.uuid!.S as string, { deleted: { N: '1' } }),
      t.update(a.uuid!.S as string, { running_vms: { N: '4' } }),
      t.update(a.uuid!.S as string, { deleted: { N: '0' } }),
      t.remove(a.uuid!.S as string),
    ];
    expect(records.map((r) => expectationFor(r!))).toEqual([
      { kind: 'notify', type: 'compute_node.create', cause: 'insert', changed: [] },
      { kind: 'nothing', why: 'no watched field changed' },
      { kind: 'nothing', why: 'no watched field changed' },
      { kind: 'notify', type: 'compute_node.update', cause: 'modify', changed: ['vcpus_used', 'running_vms'] },
      { kind: 'notify', type: 'compute_node.delete', cause: 'soft_delete', changed: [] },
      { kind: 'nothing', why: 'change to a soft-deleted node' },
      { kind: 'notify', type: 'compute_node.create', cause: 'undelete', changed: [] },
      { kind: 'notify', type: 'compute_node.delete', cause: 'remove', changed: [] },
    ]);
  });
});


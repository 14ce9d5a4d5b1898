/**
 * A change held in the quarantine is not the end of a node's story: the write that puts the
 * node right again must bring a consumer back to the table's state, even when it changes no
 * watched field. The fault this models: an invalid write in any field (not only a watched one,
 * as the fleet simulator's) that also changes a watched field, then a repair of the invalid
 * field alone. Before the fix the repair compared its images, found no watched change and was
 * suppressed: the consumer kept the state from before the quarantined write, for good.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, type Image } from '../support/records.js';
import { SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';

interface Delivered {
  readonly type: string;
  readonly seq: bigint;
  readonly data: Record<string, unknown>;
  readonly changed: readonly string[];
  readonly origin: string;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A bus that takes every entry (or, `refuseBeyond64Bits`, refuses as EventBridge does an entry
 * whose detail holds an integer outside 64 bits, `MalformedDetail`).
 */
function bus(refuseBeyond64Bits: boolean, accepted: PutEventsRequestEntry[]) {
  return (input: { Entries?: PutEventsRequestEntry[] }) => {
    if (!refuseBeyond64Bits) {
      accepted.push(...(input.Entries ?? []));
      return allAccepted(input);
    }
    const entries = (input.Entries ?? []).map((e) => {
      if ((e.Detail!.match(/-?\d+/g) ?? []).some((n) => BigInt(n) > INT64_MAX || BigInt(n) < -INT64_MAX - 1n)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      accepted.push(e);
      return { EventId: 'x' };
    });
    return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
  };
}

/** Runs the records through the notifier; what a consumer applying by sequence number ends with. */
async function consumerView(records: unknown[], refuseBeyond64Bits = false, env: Record<string, string> = {}): Promise<{ last: Delivered | undefined; quarantined: number }> {
  const h = harness(env);
  const accepted: PutEventsRequestEntry[] = [];
  h.eb.on(PutEventsCommand).callsFake(bus(refuseBeyond64Bits, accepted));
  h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
  const response = await h.invoke(records);
  expect(response.batchItemFailures).toEqual([]);
  let last: Delivered | undefined;
  for (const e of accepted) {
    const d = JSON.parse(e.Detail!) as { payload: { 'nova_object.data': Record<string, unknown> }; change: { sequence_number: string; changed_fields: string[]; origin: string } };
    const seq = BigInt(d.change.sequence_number);
    if (last === undefined || seq > last.seq) last = { type: e.DetailType!, seq, data: d.payload['nova_object.data'], changed: d.change.changed_fields, origin: d.change.origin };
  }
  return { last, quarantined: h.quarantined().length };
}

describe('a repair after a quarantined write', () => {
  it('a write that fixes an unwatched field after a quarantined watched change is notified with the full state', async () => {
    const v1 = nodeImage(1, { vcpus: { N: '8' } });
    // vcpus (watched) changes in the same write that breaks host_ip (not watched): quarantined.
    const broken = { ...v1, vcpus: { N: '16' }, host_ip: { S: 'not an address' } };
    // The repair changes host_ip only: vcpus is 16 in both of its images.
    const repaired = { ...broken, host_ip: { S: '192.0.2.11' } };
    const { last, quarantined } = await consumerView([insert(v1), modify(v1, broken), modify(broken, repaired)]);
    expect(quarantined).toBe(1);
    expect(last?.type).toBe('compute_node.update');
    expect(last?.data.vcpus).toBe(16);
    // Nothing is known of what the consumer holds: a full state, no field claimed changed.
    expect(last?.changed).toEqual([]);
    expect(last?.origin).toBe('stream');
  });

  it("a soft-deleted node whose malformed 'deleted' is set back to 0 is live again for the consumer", async () => {
    const live = nodeImage(2);
    const softDeleted = { ...live, deleted: { N: '7' } };
    const malformed = { ...live, deleted: { S: 'yes' } };
    const undeleted = { ...live, deleted: { N: '0' } };
    const { last, quarantined } = await consumerView([insert(live), modify(live, softDeleted), modify(softDeleted, malformed), modify(malformed, undeleted)]);
    expect(quarantined).toBe(1);
    expect(last?.type).not.toBe('compute_node.delete');
    expect(last?.data.uuid).toBe(live.uuid!.S);
  });

  it('a soft delete quarantined for its id is notified when the id is put right, the node still soft-deleted', async () => {
    const live = nodeImage(5);
    // The soft delete breaks id, which a delete's payload needs: quarantined, the consumer still holds the node live.
    const deletedBadId = { ...live, deleted: { N: '5' }, id: { S: 'five' } };
    const deletedRepaired = { ...deletedBadId, id: { N: '5' } };
    const { last, quarantined } = await consumerView([insert(live), modify(live, deletedBadId), modify(deletedBadId, deletedRepaired)]);
    expect(quarantined).toBe(1);
    expect(last?.type).toBe('compute_node.delete');
    expect(last?.data).toEqual({ id: 5, uuid: live.uuid!.S });
  });

  it('a write that brings an unwatched integer back within 64 bits, after a watched change EventBridge refused for it, is notified', async () => {
    const v1 = nodeImage(8, { vcpus: { N: '8' } });
    const refused = { ...v1, vcpus: { N: '16' }, free_disk_gb: { N: '1' + '0'.repeat(30) } };
    const repaired = { ...refused, free_disk_gb: { N: '460' } };
    const { last, quarantined } = await consumerView([insert(v1), modify(v1, refused), modify(refused, repaired)], true);
    expect(quarantined).toBe(1);
    expect(last?.type).toBe('compute_node.update');
    expect(last?.data.vcpus).toBe(16);
  });

  it('a watched field with a resolution back within 64 bits in the same bucket, after a refused write, is notified', async () => {
    const env = { WATCHED_FIELDS: 'vcpus,free_ram_mb', WATCHED_FIELD_RESOLUTIONS: 'free_ram_mb=1000' };
    const v1 = nodeImage(10, { vcpus: { N: '8' } });
    // 2^63 and 2^63 - 1 share a bucket of 1,000; only the first is outside 64 bits.
    const refused = { ...v1, vcpus: { N: '16' }, free_ram_mb: { N: String(2n ** 63n) } };
    const repaired = { ...refused, free_ram_mb: { N: String(2n ** 63n - 1n) } };
    const { last, quarantined } = await consumerView([insert(v1), modify(v1, refused), modify(refused, repaired)], true, env);
    expect(quarantined).toBe(1);
    expect(last?.type).toBe('compute_node.update');
    expect(last?.data.vcpus).toBe(16);
  });

  it('a soft delete EventBridge refused for its id (outside 64 bits) is notified when the id is put right', async () => {
    const live = nodeImage(9);
    const deletedHugeId = { ...live, deleted: { N: '9' }, id: { N: '9' + '0'.repeat(25) } };
    const deletedRepaired = { ...deletedHugeId, id: { N: '9' } };
    const { last, quarantined } = await consumerView([insert(live), modify(live, deletedHugeId), modify(deletedHugeId, deletedRepaired)], true);
    expect(quarantined).toBe(1);
    expect(last?.type).toBe('compute_node.delete');
  });

  it('a change to a soft-deleted node whose delete was notified is still ignored', async () => {
    const live = nodeImage(6);
    const softDeleted = { ...live, deleted: { N: '6' } };
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    await h.invoke([modify(softDeleted, { ...softDeleted, vcpus: { N: '32' }, host_ip: { S: 'bogus' } }), modify({ ...softDeleted, host_ip: { S: 'bogus' } }, softDeleted)]);
    expect(h.sentEntries()).toEqual([]);
  });

  it('an update whose old image is valid still changes nothing it need not (suppressed)', async () => {
    const v1 = nodeImage(3);
    const v2 = { ...v1, host_ip: { S: '192.0.2.99' } };
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    await h.invoke([modify(v1, v2)]);
    expect(h.sentEntries()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The property: any history of one node, with invalid writes in any field and their repairs.

const WATCHED = new Set<string>(SPEC_WATCHED_FIELDS);

type Attr = Image[string] | undefined;
type Step = { readonly attribute: string; readonly value: Attr };

const validInteger = fc.integer({ min: 0, max: 3 }).map((n): Attr => ({ N: String(n) }));
/** A write of one attribute: valid most of the time, sometimes one the notifier must quarantine. */
const step: fc.Arbitrary<Step> = fc.oneof(
  // Watched integers.
  fc.record({ attribute: fc.constantFrom('vcpus', 'memory_mb', 'running_vms'), value: fc.oneof({ weight: 4, arbitrary: validInteger }, { weight: 1, arbitrary: fc.constant<Attr>({ N: '1.5' }) }) }),
  // Unwatched fields of every kind: integer, nullable integer, string, IP address.
  fc.record({ attribute: fc.constantFrom('memory_mb_used', 'hypervisor_version', 'free_disk_gb'), value: fc.oneof({ weight: 4, arbitrary: validInteger }, { weight: 1, arbitrary: fc.constantFrom<Attr>({ N: '2.5' }, { S: 'x' }) }) }),
  fc.record({ attribute: fc.constant('hypervisor_type'), value: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<Attr>({ S: 'QEMU' }, { S: 'KVM' }) }, { weight: 1, arbitrary: fc.constantFrom<Attr>({ N: '1' }, undefined) }) }),
  fc.record({ attribute: fc.constant('host_ip'), value: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<Attr>({ S: '10.0.0.1' }, { S: '2001:db8::1' }, { NULL: true }) }, { weight: 1, arbitrary: fc.constant<Attr>({ S: 'bogus' }) }) }),
  // id: a delete's payload needs it too.
  fc.record({ attribute: fc.constant('id'), value: fc.oneof({ weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }).map((n): Attr => ({ N: String(n) })) }, { weight: 1, arbitrary: fc.constant<Attr>({ S: 'x' }) }) }),
  // Soft delete, undelete, and a malformed `deleted`.
  fc.record({ attribute: fc.constant('deleted'), value: fc.constantFrom<Attr>({ N: '0' }, { N: '0' }, { N: '9' }, { BOOL: true }, { S: 'yes' }) }),
);

/** The oracle's own reading of an image: its problems (by type), its soft-delete state. */
function problems(image: Image): boolean {
  const int = (v: Attr, nullable: boolean) => (v === undefined || v.NULL === true ? nullable : typeof v.N === 'string' && /^\d+$/.test(v.N));
  if (!['id', 'vcpus', 'memory_mb', 'running_vms', 'memory_mb_used', 'hypervisor_version', 'free_disk_gb'].every((f) => int(image[f], f === 'running_vms' || f === 'free_disk_gb'))) return true;
  if (typeof image.hypervisor_type?.S !== 'string') return true;
  if (image.host_ip?.S === 'bogus') return true;
  const d = image.deleted;
  return d !== undefined && !(d.N === '0' || d.N === '9' || d.BOOL === true);
}
const isSoftDeleted = (image: Image) => image.deleted?.N === '9' || image.deleted?.BOOL === true;

describe('property: a consumer ends with the table state once the node is valid again', () => {
  it('after any history of valid, invalid and repairing writes to any field, the last notification is the table state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 10 }), async (writes) => {
        let image = nodeImage(7, { deleted: { N: '0' } });
        const records: unknown[] = [insert(image)];
        for (const w of writes) {
          const next: Record<string, Attr> = { ...image };
          for (const s of w) next[s.attribute] = s.value;
          const after = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) as Image;
          // DynamoDB writes no record for a write that changes nothing.
          if (JSON.stringify(after) === JSON.stringify(image)) continue;
          records.push(modify(image, after));
          image = after;
        }
        const { last } = await consumerView(records);
        // An invalid final state is held in the quarantine for an operator: nothing to compare.
        if (problems(image)) return;
        expect(last).toBeDefined();
        if (isSoftDeleted(image)) {
          expect(last!.type).toBe('compute_node.delete');
          return;
        }
        expect(last!.type).not.toBe('compute_node.delete');
        for (const f of ['vcpus', 'memory_mb', 'running_vms']) {
          expect(WATCHED.has(f)).toBe(true);
          expect(String(last!.data[f])).toBe(image[f]?.N ?? 'null');
        }
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * Test support: a node's history in the compute node table, the notifications the real
 * notifier builds for it, and resyncs taken at any point of it; delivered as EventBridge
 * events (the body an indexer route's queue delivers).
 */
import fc from 'fast-check';
import { loadConfig } from '../../functions/notifier/config.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { compilePayloadEncoder } from '../../functions/notifier/payload-encoder.js';
import { ComputeNodePayload } from '../../functions/notifier/contract/index.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';
import { insert, modify, nodeImage, remove, type Image } from '../support/records.js';

export const builder = createNotificationBuilder(loadConfig({ EVENT_BUS_NAME: 'bus', PUBLISHER_HOST_FALLBACK: 'fallback' }));
const encode = compilePayloadEncoder(ComputeNodePayload);

export type Op =
  | { kind: 'write'; vcpusUsed: number; freeRam: number | null; hostChange: boolean }
  | { kind: 'softDelete' }
  | { kind: 'undelete' }
  | { kind: 'remove' }
  | { kind: 'resync' };

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), vcpusUsed: fc.integer({ min: 0, max: 40 }), freeRam: fc.option(fc.integer({ min: 0, max: 9000 })), hostChange: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'softDelete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'undelete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'remove' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'resync' as const }) },
);

export interface History {
  /** Every notification (stream and resync), as delivered event bodies, in the order they were made. */
  readonly deliveries: string[];
  /** The table's final item (undefined: removed or never written). */
  readonly finalImage: Image | undefined;
  /** Whether any notification was made for the node. */
  readonly notified: boolean;
}

/** An EventBridge event as a rule delivers it to an SQS target. */
export function envelope(detailType: string, detail: string, time = '2026-11-26T19:06:02Z'): string {
  return `{"version":"0","id":"00000000-0000-0000-0000-000000000000","detail-type":"${detailType}","source":"openstack.nova","account":"123456789012","time":"${time}","region":"us-east-1","resources":[],"detail":${detail}}`;
}

const BASE_TIME = 1_795_719_961;

/** Plays `ops` on node `n` of the table; each write changes a watched field (vcpus_used, or the others with it). */
export function playHistory(n: number, ops: readonly Op[], firstSequence: bigint): History {
  let image: Image | undefined;
  let seq = firstSequence;
  let clock = BASE_TIME;
  const deliveries: string[] = [];
  let writes = 0;
  const emit = (record: StreamRecord | ReturnType<typeof insert>) => {
    const outcome = builder(record as StreamRecord);
    if (outcome.kind === 'notify') deliveries.push(envelope(outcome.notification.eventType, outcome.notification.entry.Detail!));
    if (outcome.kind === 'invalid') throw new Error(`test history made an invalid record: ${JSON.stringify(outcome.issues)}`);
  };
  const next = () => {
    seq += BigInt(1 + (Number(seq % 7n)));
    clock += 1.25;
    return { sequence: seq.toString().padStart(21, '0'), time: clock };
  };
  for (const o of ops) {
    switch (o.kind) {
      case 'write': {
        writes++;
        // vcpus_used always changes (watched): the write is always notified (or ignored when soft-deleted).
        const current = image?.vcpus_used?.N;
        const used = String(o.vcpusUsed) === current ? o.vcpusUsed + 41 : o.vcpusUsed;
        const fresh = nodeImage(n, {
          vcpus_used: { N: String(used) },
          free_ram_mb: o.freeRam === null ? { NULL: true } : { N: String(o.freeRam) },
          ...(o.hostChange ? { host: { S: `host-${writes % 3}` } } : {}),
          ...(image?.deleted === undefined ? {} : { deleted: image.deleted }),
        });
        const record = image === undefined ? insert(fresh, next()) : modify(image, fresh, next());
        image = fresh;
        emit(record);
        break;
      }
      case 'softDelete':
        if (image === undefined) break;
        {
          const deleted = { ...image, deleted: { N: String(n) } };
          emit(modify(image, deleted, next()));
          image = deleted;
        }
        break;
      case 'undelete':
        if (image === undefined || image.deleted === undefined) break;
        {
          const live = { ...image, deleted: { N: '0' } };
          emit(modify(image, live, next()));
          image = live;
        }
        break;
      case 'remove':
        if (image === undefined) break;
        emit(remove(image, next()));
        image = undefined;
        break;
      case 'resync': {
        clock += 0.5;
        // A resync reads the table now: a live node becomes a resync notification.
        if (image === undefined || (image.deleted !== undefined && image.deleted.N !== '0')) break;
        const outcome = builder.resync(image, clock, 'ComputeNodes');
        if (outcome.kind !== 'notify') throw new Error('resync of a valid image must notify');
        deliveries.push(envelope('compute_node.update', outcome.notification.entry.Detail!));
        break;
      }
    }
  }
  return { deliveries, finalImage: image, notified: deliveries.length > 0 };
}

/** `nova_object.data` of an image, as the notifier encodes it. */
export function dataJsonOf(image: Image): string {
  const r = encode(image);
  if (!r.ok) throw new Error('invalid image');
  const prefix = r.json.indexOf('"nova_object.data":') + '"nova_object.data":'.length;
  return r.json.slice(prefix, -1);
}

export const isLiveImage = (image: Image | undefined): image is Image => image !== undefined && (image.deleted === undefined || image.deleted.N === '0');

/**
 * A node's history (at most `maxOps` operations, resyncs among them) and a delivery order:
 * every notification at least once, some more than once, shuffled (an at-least-once bus
 * that does not order). The delivery count does not depend on the node number.
 */
export function scenario(maxOps: number) {
  return fc.array(op, { maxLength: maxOps }).chain((ops) => {
    const count = playHistory(1, ops, 1000n).deliveries.length;
    const indices = Array.from({ length: count }, (_, i) => i);
    const duplicates = count === 0 ? fc.constant([] as number[]) : fc.array(fc.constantFrom(...indices), { maxLength: count });
    return duplicates.chain((dups) => {
      const all = [...indices, ...dups];
      return fc.shuffledSubarray(all, { minLength: all.length }).map((order) => ({ ops, order }));
    });
  });
}

/**
 * Resolution of watched fields (functions/notifier/field-resolution.ts): whatever the history
 * of writes to a node, a consumer that applies every notification holds each field with a
 * resolution within that resolution of the table, and every exact field exactly; the bucket
 * function is exact floor division; the configuration refuses bad resolutions.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadConfig } from '../../functions/notifier/config.js';
import { RESYNC_MARKER_ATTRIBUTE, type ComputeNodeField } from '../../functions/notifier/contract/index.js';
import { compileBucket, finestResolutions } from '../../functions/notifier/field-resolution.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { insert, modify, nodeImage, remove, type Image } from '../support/records.js';

/** Resolutions under test: a round one, an odd one, one on a field nullable in the payload. */
const RESOLUTIONS = { memory_mb_used: 1024, free_ram_mb: 1024, local_gb_used: 7, free_disk_gb: 10 } as const;
type ResolvedField = keyof typeof RESOLUTIONS;
const RESOLVED = Object.keys(RESOLUTIONS) as ResolvedField[];
const EXACT = ['vcpus', 'memory_mb', 'vcpus_used', 'running_vms', 'host'] as const;
const WATCHED = [...EXACT, ...RESOLVED] as ComputeNodeField[];
const NULLABLE = new Set<string>(['free_ram_mb', 'free_disk_gb', 'running_vms']);

const env = {
  WATCHED_FIELDS: WATCHED.join(','),
  WATCHED_FIELD_RESOLUTIONS: Object.entries(RESOLUTIONS).map(([f, r]) => `${f}=${r}`).join(','),
};
const build = createNotificationBuilder(loadConfig(env));

/** Floor division in bigint: the oracle of the bucket function. */
function floorDiv(v: bigint, r: bigint): bigint {
  const q = v / r;
  return v < 0n && q * r !== v ? q - 1n : q;
}

describe('the bucket of a value', () => {
  it('is floor(value / resolution), exactly, for any integer and resolution (safe, at the edges of safe, and beyond)', () => {
    const big = fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n });
    const nearEdge = fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -2, max: 1 })).map(([r, k, d]) => [BigInt(k) * BigInt(r) + BigInt(d), r] as const);
    const safe = fc.tuple(fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
    fc.assert(
      fc.property(fc.oneof(fc.tuple(big, fc.integer({ min: 1, max: 1 << 30 })), nearEdge, safe), ([v, r]) => {
        const bucket = compileBucket(r)(String(v));
        expect(BigInt(bucket as number | bigint)).toBe(floorDiv(v, BigInt(r)));
      }),
      { numRuns: 2000 },
    );
    expect(compileBucket(1024)('null')).toBeNull();
  });
});

type Step =
  | { kind: 'creep'; field: ResolvedField; delta: number; times: number }
  | { kind: 'oscillate'; field: ResolvedField; edge: number; times: number }
  | { kind: 'jump'; field: ResolvedField; value: bigint | null }
  | { kind: 'exact'; field: (typeof EXACT)[number]; value: number }
  | { kind: 'unwatched'; value: number }
  | { kind: 'softDelete' }
  | { kind: 'undelete' }
  | { kind: 'hardDelete' }
  | { kind: 'resync'; run: number };

const resolvedField = fc.constantFrom(...RESOLVED);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('creep' as const), field: resolvedField, delta: fc.integer({ min: -60, max: 60 }), times: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('oscillate' as const), field: resolvedField, edge: fc.integer({ min: -3, max: 40 }), times: fc.integer({ min: 1, max: 12 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      field: resolvedField,
      value: fc.oneof({ weight: 8, arbitrary: fc.bigInt({ min: -5000n, max: 600_000n }) }, fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.constant(null)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('exact' as const), field: fc.constantFrom(...EXACT), value: fc.integer({ min: 0, max: 4 }) }) },
  fc.record({ kind: fc.constant('unwatched' as const), value: fc.integer({ min: 0, max: 9 }) }),
  fc.constant({ kind: 'softDelete' as const }),
  fc.constant({ kind: 'undelete' as const }),
  fc.constant({ kind: 'hardDelete' as const }),
  fc.record({ kind: fc.constant('resync' as const), run: fc.integer({ min: 0, max: 3 }) }),
);

/** A field's value in a notification's JSON text (exact, beyond 2^53 too), or undefined if absent. */
function notified(detail: string, field: string): bigint | null | string | undefined {
  const m = new RegExp(`"${field}":(-?\\d+|null|"[^"]*")`).exec(detail);
  if (m === null) return undefined;
  if (m[1] === 'null') return null;
  return m[1]!.startsWith('"') ? m[1]!.slice(1, -1) : BigInt(m[1]!);
}

function tableValue(image: Image, field: string): bigint | null | string {
  const v = image[field] as { N?: string; S?: string; NULL?: boolean } | undefined;
  if (v === undefined || v.NULL === true) return null;
  return v.N !== undefined ? BigInt(v.N) : v.S!;
}

const bucketOf = (field: ResolvedField, v: bigint | null | string): string => (v === null ? 'null' : String(floorDiv(v as bigint, BigInt(RESOLUTIONS[field]))));

/** The table's writes for a history: each a new image (undefined: the item is gone). */
function* writes(steps: readonly Step[]): Generator<Image | undefined> {
  let image: Image | undefined = nodeImage(1);
  let live = true;
  yield image;
  const set = (field: string, v: bigint | number | null | string): Image => {
    const base = image ?? nodeImage(1);
    const attr = v === null ? { NULL: true as const } : typeof v === 'string' ? { S: v } : { N: String(v) };
    return { ...base, [field]: attr };
  };
  for (const s of steps) {
    if (image === undefined) {
      // Gone: the node comes back (an INSERT) before anything else happens to it.
      image = nodeImage(1);
      live = true;
      yield image;
    }
    switch (s.kind) {
      case 'creep':
        for (let i = 0; i < s.times; i++) {
          const now = tableValue(image, s.field);
          yield (image = set(s.field, (typeof now === 'bigint' ? now : 0n) + BigInt(s.delta)));
        }
        break;
      case 'oscillate': {
        const edge = BigInt(s.edge) * BigInt(RESOLUTIONS[s.field]);
        for (let i = 0; i < s.times; i++) yield (image = set(s.field, i % 2 === 0 ? edge - 1n : edge));
        break;
      }
      case 'jump':
        // A nullable field may become null; the others take 0 instead.
        yield (image = set(s.field, s.value === null && !NULLABLE.has(s.field) ? 0n : s.value));
        break;
      case 'exact':
        yield (image = set(s.field, s.field === 'host' ? `compute-${s.value}` : s.value));
        break;
      case 'unwatched':
        yield (image = set('hypervisor_version', 6_002_000 + s.value));
        break;
      case 'softDelete':
        if (live) yield (image = set('deleted', 1)), (live = false);
        break;
      case 'undelete':
        if (!live) yield (image = set('deleted', 0)), (live = true);
        break;
      case 'hardDelete':
        yield (image = undefined);
        break;
      case 'resync':
        yield (image = set(RESYNC_MARKER_ATTRIBUTE, `run-${s.run}`));
        break;
    }
  }
}

const isLive = (image: Image | undefined): image is Image => image !== undefined && (image.deleted as { N?: string } | undefined)?.N !== '1';

describe('a consumer of a field with a resolution', () => {
  it('holds each such field within its resolution of the table, and every exact field exactly, whatever the history (creep, oscillation on a bucket edge, jumps, deletes, resyncs)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        let held: string | undefined; // the detail of the last notification applied
        let previous: Image | undefined;
        for (const image of writes(steps)) {
          const record =
            previous === undefined ? insert(image!) : image === undefined ? remove(previous) : modify(previous, image);
          const outcome = build(StreamRecord.parse(record));
          expect(outcome.kind).not.toBe('invalid');
          if (outcome.kind === 'notify') {
            const detail = outcome.notification.entry.Detail!;
            if (outcome.notification.eventType === 'compute_node.delete') held = undefined;
            else {
              if (outcome.notification.eventType === 'compute_node.update' && held !== undefined && previous !== undefined) {
                for (const f of outcome.notification.changedFields) {
                  // changed_fields: a listed field's notified value differs from the one the consumer held.
                  expect(notified(detail, f)).not.toEqual(notified(held, f));
                }
                for (const f of EXACT) {
                  if (tableValue(previous, f) !== tableValue(image!, f)) expect(outcome.notification.changedFields).toContain(f);
                }
                for (const f of RESOLVED) {
                  if (bucketOf(f, tableValue(previous, f)) !== bucketOf(f, tableValue(image!, f))) expect(outcome.notification.changedFields).toContain(f);
                }
              }
              held = detail;
            }
          } else if (previous !== undefined && image !== undefined && isLive(previous) && isLive(image)) {
            // Suppressed: no exact field changed (every change of one is notified).
            for (const f of EXACT) expect(tableValue(image, f)).toEqual(tableValue(previous, f));
          }
          previous = image;
          if (!isLive(image)) {
            expect(held).toBeUndefined();
            continue;
          }
          expect(held).toBeDefined();
          for (const f of EXACT) expect(notified(held!, f)).toEqual(tableValue(image, f));
          for (const f of RESOLVED) {
            const table = tableValue(image, f);
            const mine = notified(held!, f);
            if (table === null || mine === null) expect(mine).toEqual(table);
            else {
              const gap = (mine as bigint) - (table as bigint);
              expect(gap < 0n ? -gap : gap).toBeLessThan(BigInt(RESOLUTIONS[f]));
            }
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a slow creep within the resolution with one notification per bucket crossed (a threshold on old and new image would never notify it)', () => {
    let image = nodeImage(1, { free_ram_mb: { N: '0' } });
    let notifications = 0;
    let held = 0n;
    for (let i = 1; i <= 300; i++) {
      const next = nodeImage(1, { free_ram_mb: { N: String(i * 10) } });
      const outcome = build(StreamRecord.parse(modify(image, next)));
      if (outcome.kind === 'notify') {
        notifications++;
        held = notified(outcome.notification.entry.Detail!, 'free_ram_mb') as bigint;
        expect(outcome.notification.changedFields).toEqual(['free_ram_mb']);
      }
      expect(BigInt(i * 10) - held).toBeLessThan(1024n);
      image = next;
    }
    // 0 → 3000 MB in steps of 10 crosses 1024 and 2048: two notifications out of 300 writes.
    expect(notifications).toBe(2);
  });
});

describe('WATCHED_FIELD_RESOLUTIONS', () => {
  it('is parsed once into field → resolution, and an exact field stays exact', () => {
    expect(loadConfig(env).fieldResolutions).toEqual(RESOLUTIONS);
    expect(loadConfig({ WATCHED_FIELDS: 'free_ram_mb' }).fieldResolutions).toEqual({});
  });

  it.each([
    ['free_ram_mb=0', /resolution of 'free_ram_mb' must be a whole number of at least 1.*got 0/],
    ['free_ram_mb=-5', /resolution of 'free_ram_mb' must be a whole number of at least 1.*got "-5"/],
    ['free_ram_mb=1.5', /got "1.5"/],
    ['free_ram_mb=abc', /got "abc"/],
    ['host=10', /field 'host' is not an integer payload field/],
    ['bogus=10', /unknown field 'bogus'/],
    ['free_ram_mb', /'free_ram_mb' is not field=resolution/],
    ['free_ram_mb=1024,free_ram_mb=512', /'free_ram_mb' is given twice/],
    ['vcpus_used=2', /'vcpus_used' not in WATCHED_FIELDS/],
  ])('refuses %s, naming the variable, the field and the rule', (value, message) => {
    expect(() => loadConfig({ WATCHED_FIELDS: 'free_ram_mb,host', WATCHED_FIELD_RESOLUTIONS: value })).toThrow(/WATCHED_FIELD_RESOLUTIONS/);
    expect(() => loadConfig({ WATCHED_FIELDS: 'free_ram_mb,host', WATCHED_FIELD_RESOLUTIONS: value })).toThrow(message);
  });
});

describe('the effective resolution of several consumers', () => {
  it('is the finest declared; a consumer reading a field exactly, or a configured watched field, keeps it exact', () => {
    const a = new Map<ComputeNodeField, number | undefined>([['free_ram_mb', 1024], ['memory_mb_used', 2048], ['free_disk_gb', 10]]);
    const b = new Map<ComputeNodeField, number | undefined>([['free_ram_mb', 512], ['memory_mb_used', undefined]]);
    expect(finestResolutions([a, b])).toEqual({ free_ram_mb: 512, free_disk_gb: 10 });
    expect(finestResolutions([a], ['free_disk_gb'])).toEqual({ free_ram_mb: 1024, memory_mb_used: 2048 });
    expect(finestResolutions([])).toEqual({});
  });
});

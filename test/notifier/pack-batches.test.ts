/**
 * Packing PutEvents entries and SQS messages: every item once, in order, each batch within
 * the count and byte limits, and greedy (a batch closes only when the next item cannot join
 * it); a batch full by count is handed on by the push that fills it, not the next one (the
 * publisher sends it at once).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchPacker, packBatches } from '../../functions/notifier/pack-batches.js';

const arbCase = fc.record({
  maxCount: fc.integer({ min: 1, max: 12 }),
  maxBytes: fc.integer({ min: 1, max: 5_000 }),
  sizes: fc.array(fc.integer({ min: 0, max: 6_000 }), { maxLength: 80 }),
});

describe('packBatches', () => {
  it('keeps order, respects both limits and closes a batch only when the next item cannot join', () => {
    fc.assert(
      fc.property(arbCase, ({ maxCount, maxBytes, sizes }) => {
        const items = sizes.map((size, id) => ({ id, size }));
        const batches = packBatches(items, maxCount, maxBytes);
        expect(batches.flat().map((i) => i.id)).toEqual(items.map((i) => i.id));
        const bytes = (b: { size: number }[]) => b.reduce((n, i) => n + i.size, 0);
        batches.forEach((b, k) => {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(maxCount);
          // An item larger than the limit travels alone (the caller refuses or reports it).
          if (b.length > 1) expect(bytes(b)).toBeLessThanOrEqual(maxBytes);
          const next = batches[k + 1]?.[0];
          if (next !== undefined) expect(b.length === maxCount || bytes(b) + next.size > maxBytes).toBe(true);
        });
      }),
      { numRuns: 1_000 },
    );
  });

  it('BatchPacker hands on a batch full by count during the push that fills it', () => {
    fc.assert(
      fc.property(arbCase, ({ maxCount, sizes }) => {
        const handed: number[] = [];
        let pushes = 0;
        const packer = new BatchPacker<{ size: number }>(maxCount, Number.MAX_SAFE_INTEGER, (batch) => handed.push(batch.length));
        for (const size of sizes) {
          packer.push({ size });
          pushes++;
          // Never a full batch waiting: everything pushed so far is handed on but the remainder.
          expect(pushes - handed.reduce((a, b) => a + b, 0)).toBe(pushes % maxCount);
        }
        packer.flush();
        expect(handed.reduce((a, b) => a + b, 0)).toBe(sizes.length);
      }),
      { numRuns: 1_000 },
    );
  });
});

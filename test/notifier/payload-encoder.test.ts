/**
 * The encoder's two ways to the same payload agree: the one-pass `encode` (creates, deletes)
 * and `fields` then `json` (updates, which build the JSON only when a notification goes out),
 * on valid and invalid images alike: same JSON, same field texts, same issues.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ComputeNodeDeletePayload, ComputeNodePayload } from '../../functions/notifier/contract/index.js';
import { compilePayloadEncoder } from '../../functions/notifier/payload-encoder.js';
import { nodeImage } from '../support/records.js';

const ATTRIBUTES = Object.keys(nodeImage(1));
// Values a field may hold: good ones of every type and ones that break some field's rule.
const VALUES = [
  undefined,
  { NULL: true },
  { N: '7' },
  { N: '7.0' },
  { N: '1.5' },
  { N: '1e3' },
  { S: 'compute-9' },
  { S: '10.0.0.9' },
  { S: '::ffff:10.0.0.9' },
  { S: '6f1c3b52-9a0e-4d7b-a621-5e93c47d08b1' },
  { S: '\ud800' },
  { BOOL: true },
];

describe('payload encoder', () => {
  for (const def of [ComputeNodePayload, ComputeNodeDeletePayload]) {
    it(`${def.name}: encode(image) equals json(fields(image)), issues included`, () => {
      const encoder = compilePayloadEncoder(def);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 1000 }), fc.dictionary(fc.constantFrom(...ATTRIBUTES), fc.constantFrom(...VALUES.keys())), (n, edits) => {
          const image: Record<string, Record<string, unknown>> = { ...nodeImage(n) };
          for (const [attribute, k] of Object.entries(edits)) {
            const v = VALUES[k];
            if (v === undefined) delete image[attribute];
            else image[attribute] = v;
          }
          const whole = encoder(image);
          const split = encoder.fields(image);
          expect(split.ok).toBe(whole.ok);
          if (whole.ok && split.ok) {
            expect(split.fields).toEqual(whole.fields);
            expect(encoder.json(split.fields)).toBe(whole.json);
            expect(JSON.parse(whole.json)['nova_object.name']).toBe(def.name);
          } else if (!whole.ok && !split.ok) {
            expect(split.issues).toEqual(whole.issues);
            expect(whole.issues.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 1_000 },
      );
    });
  }
});

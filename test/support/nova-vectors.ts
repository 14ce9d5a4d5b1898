/**
 * Nova's reference vectors: the committed copy in test/fixtures, plus any newer ones in the
 * workplace's shared/ folder beside the repository (read when present).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const Expectation = z.union([
  z.object({ rejected: z.literal(true), fields: z.array(z.string()) }),
  z.object({ DetailType: z.string(), event_type: z.string(), priority: z.string(), publisher_id: z.string(), payload_json: z.string() }),
]);

export const Vector = z.object({
  name: z.string(),
  description: z.string(),
  publisher_host_fallback: z.string(),
  cases: z.array(z.object({ case: z.string(), record: z.record(z.string(), z.unknown()), expect: z.array(Expectation) })),
});
export type Vector = z.infer<typeof Vector>;

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIRS = [join(ROOT, 'test', 'fixtures', 'nova-reference'), join(ROOT, '..', 'shared', 'nova-reference', 'vectors')];

/** All vectors by file name; shared/ wins over the committed copy where both have a file. */
export function loadVectors(): Map<string, Vector> {
  const vectors = new Map<string, Vector>();
  for (const dir of DIRS) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      vectors.set(file, Vector.parse(JSON.parse(readFileSync(join(dir, file), 'utf8'))));
    }
  }
  return vectors;
}

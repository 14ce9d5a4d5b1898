/**
 * A fingerprint of a versioned JSON shape that is ours (the `change` block, the resync run
 * event): `<version>-<md5 of its JSON Schema>`. The JSON Schema lists keys in wire order with
 * their types, so adding, removing, reordering or retyping a key changes the hash; the
 * contract test records each fingerprint, so such a change without a version bump fails it
 * (as the payload fingerprints do for Nova's payloads).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

export function schemaFingerprint(version: number, schema: z.ZodMiniType): string {
  const json = JSON.stringify(z.toJSONSchema(schema, { target: 'draft-4' }));
  return `${version}-${createHash('md5').update(json).digest('hex')}`;
}

/**
 * Resolution of a watched field: an update is notified when the field's value moves into
 * another bucket of width `resolution` (`floor(value / resolution)` changes), not on every
 * change. Stateless, and it bounds what a consumer holds: two values in the same bucket differ
 * by less than the resolution, and a run of suppressed writes never leaves the bucket of the
 * last notified value (the proof: docs/field-resolution.md).
 *
 * Shared by the notifier's configuration (WATCHED_FIELD_RESOLUTIONS), the CDK construct (which
 * checks each consumer's declaration with the same rule) and drift (which compares within it).
 *
 * @example
 * ```ts
 * const bucket = compileBucket(1024);
 * bucket('2047') === bucket('1024'); // true: both in [1024, 2048)
 * ```
 */
import { ComputeNodePayload, type ComputeNodeField } from './contract/index.js';

/** Field → resolution, in the field's own unit (MB, GB, count). A field not listed is exact. */
export type FieldResolutions = Readonly<Partial<Record<ComputeNodeField, number>>>;

/** The payload's integer fields: the only ones a resolution applies to (every numeric payload field is an integer). */
export const RESOLVABLE_FIELDS: readonly ComputeNodeField[] = (Object.entries(ComputeNodePayload.fields) as [ComputeNodeField, { kind: string }][])
  .filter(([, f]) => f.kind === 'Integer')
  .map(([name]) => name);

/**
 * Why `resolution` cannot apply to `field`, or undefined when it can. The rule: an integer
 * payload field, and a whole number from 1 to 2^53 − 1 (integer buckets are computed exactly).
 */
export function resolutionProblem(field: string, resolution: unknown): string | undefined {
  if (!(RESOLVABLE_FIELDS as readonly string[]).includes(field)) {
    return `field '${field}' is not an integer payload field, so it cannot have a resolution (integer fields: ${RESOLVABLE_FIELDS.join(', ')})`;
  }
  if (typeof resolution !== 'number' || !Number.isSafeInteger(resolution) || resolution < 1) {
    return `the resolution of '${field}' must be a whole number of at least 1 (in the field's unit), got ${JSON.stringify(resolution) ?? String(resolution)}`;
  }
  return undefined;
}

/** `field=resolution` pairs, comma-separated, in payload order: WATCHED_FIELD_RESOLUTIONS's format. */
export function formatResolutions(resolutions: FieldResolutions): string {
  return (Object.keys(ComputeNodePayload.fields) as ComputeNodeField[])
    .filter((f) => resolutions[f] !== undefined)
    .map((f) => `${f}=${resolutions[f]}`)
    .join(',');
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A bucket: equal buckets mean "the same value at this resolution"; `null` is a bucket of its own. */
export type Bucket = number | bigint | null;

/**
 * The bucket function of a resolution, over an integer field's JSON text (the payload encoder's
 * output: canonical integer digits, or `null`). Exact floor division: in safe integers (the
 * floating-point quotient corrected), else in bigint.
 */
export function compileBucket(resolution: number): (json: string) => Bucket {
  const big = BigInt(resolution);
  const safeLimit = Number.MAX_SAFE_INTEGER - resolution;
  return (json) => {
    if (json === 'null') return null;
    const v = Number(json);
    // In this range b·r and (b+1)·r stay within |v| + r, so they and the comparisons are exact.
    if (Number.isSafeInteger(v) && Math.abs(v) <= safeLimit) {
      let b = Math.floor(v / resolution);
      while (b * resolution > v) b--;
      while ((b + 1) * resolution <= v) b++;
      return b;
    }
    const n = BigInt(json);
    let q = n / big; // truncates toward zero
    if (n < 0n && q * big !== n) q -= 1n;
    return q >= MIN_SAFE && q <= MAX_SAFE ? Number(q) : q;
  };
}

/**
 * The effective resolutions of a set of declarations: per field, the finest declared, and a
 * field read exactly by anyone (`undefined` in a declaration) stays exact.
 */
export function finestResolutions(declarations: Iterable<ReadonlyMap<ComputeNodeField, number | undefined>>, exactFields: Iterable<ComputeNodeField> = []): FieldResolutions {
  const exact = new Set<ComputeNodeField>(exactFields);
  const finest = new Map<ComputeNodeField, number>();
  for (const declared of declarations) {
    for (const [field, resolution] of declared) {
      if (resolution === undefined) exact.add(field);
      else finest.set(field, Math.min(resolution, finest.get(field) ?? Infinity));
    }
  }
  return Object.fromEntries([...finest].filter(([f]) => !exact.has(f))) as FieldResolutions;
}

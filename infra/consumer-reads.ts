/**
 * What a consumer of the notifications declares it reads: payload fields, each exact or with
 * the resolution the consumer can live with (functions/notifier/field-resolution.ts). The
 * construct watches every declared field at the finest resolution any consumer declared.
 *
 * @example
 * ```ts
 * notifier.declareConsumer('Placement', ['vcpus_used', { field: 'free_ram_mb', resolution: 1024 }]);
 * ```
 */
import { ComputeNodePayload, type ComputeNodeField } from '../functions/notifier/contract/index.js';
import { resolutionProblem } from '../functions/notifier/field-resolution.js';

/** A field the consumer reads at a resolution: it holds the field within `resolution` (in the field's unit) of the table. */
export interface FieldReadAtResolution {
  readonly field: string;
  /** A whole number ≥ 1 in the field's unit (MB, GB, count); integer fields only. */
  readonly resolution: number;
}

/** A field read exactly (its name), or at a resolution. */
export type FieldRead = string | FieldReadAtResolution;

/** The declared reads: field → resolution (`undefined`: exact), or why they are wrong. */
export type CheckedReads = { readonly ok: true; readonly reads: ReadonlyMap<ComputeNodeField, number | undefined> } | { readonly ok: false; readonly problem: string };

const PAYLOAD_FIELDS = Object.keys(ComputeNodePayload.fields) as ComputeNodeField[];

/**
 * Checks a consumer's reads; `label` names the consumer in the problem. A field read both
 * exactly and at a resolution is read exactly; read at two resolutions, at the finer one.
 */
export function checkReads(label: string, reads: readonly FieldRead[]): CheckedReads {
  const out = new Map<ComputeNodeField, number | undefined>();
  for (const read of reads) {
    const field = typeof read === 'string' ? read : (read as Partial<FieldReadAtResolution> | null)?.field;
    if (typeof field !== 'string' || !(PAYLOAD_FIELDS as readonly string[]).includes(field)) {
      return {
        ok: false,
        problem: `${label} reads field '${String(field)}', which ${ComputeNodePayload.name} does not have (its fields: ${PAYLOAD_FIELDS.join(', ')})`,
      };
    }
    const name = field as ComputeNodeField;
    if (typeof read === 'string') {
      out.set(name, undefined);
      continue;
    }
    const problem = resolutionProblem(field, read.resolution);
    if (problem !== undefined) return { ok: false, problem: `${label} reads field '${field}' at a resolution that cannot apply: ${problem}` };
    if (out.has(name) && out.get(name) === undefined) continue;
    out.set(name, Math.min(read.resolution, out.get(name) ?? Infinity));
  }
  return { ok: true, reads: new Map(PAYLOAD_FIELDS.filter((f) => out.has(f)).map((f) => [f, out.get(f)])) };
}

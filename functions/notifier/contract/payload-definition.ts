/**
 * The shape of a Nova notification payload definition (`NotificationPayloadBase`): a name, a
 * version, the fields in wire order, and the SCHEMA that says which source attribute fills
 * each field. Everything else (zod schema, TypeScript type, JSON Schema, fingerprint,
 * the hot path's encoder) is derived from one of these.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { NovaField } from './nova-fields.js';

type Fields = Record<string, NovaField>;
type SchemaOf<F extends Fields> = { [K in keyof F]: F[K]['schema'] };

export interface PayloadDefinition<F extends Fields = Fields> {
  /** `nova_object.name` */
  readonly name: string;
  /** `nova_object.version`; bump it whenever the fields change (the fingerprint test insists). */
  readonly version: string;
  /** Fields in the order Nova writes them. */
  readonly fields: F;
  /** Nova's SCHEMA: payload field → [source object, source attribute]. */
  readonly source: { readonly [K in keyof F]: readonly ['compute_node', string] };
  /** Validates `nova_object.data` of a parsed payload. */
  readonly dataSchema: z.ZodMiniObject<SchemaOf<F>, z.core.$strict>;
  /** Validates the whole versioned-object primitive. */
  readonly primitiveSchema: z.ZodMiniObject;
  /** `1.0-<hash of the field signatures>`, as Nova's object-version test computes it. */
  readonly fingerprint: string;
}

/** Defines a payload; see `compute-node-payload.ts` for an example. */
export function definePayload<F extends Fields>(def: {
  name: string;
  version: string;
  fields: F;
  source: { readonly [K in keyof F]: readonly ['compute_node', string] };
}): PayloadDefinition<F> {
  const shape = Object.fromEntries(Object.entries(def.fields).map(([k, f]) => [k, f.schema])) as SchemaOf<F>;
  const dataSchema = z.strictObject(shape);
  const primitiveSchema = z.strictObject({
    'nova_object.name': z.literal(def.name),
    'nova_object.namespace': z.literal('nova'),
    'nova_object.version': z.literal(def.version),
    'nova_object.data': dataSchema,
  });
  const signature = Object.entries(def.fields)
    .map(([k, f]) => `${k}=${f.signature}`)
    .join(';');
  const fingerprint = `${def.version}-${createHash('md5').update(signature).digest('hex')}`;
  return { ...def, dataSchema, primitiveSchema, fingerprint };
}

/** The TypeScript type of `nova_object.data` for a payload definition. */
export type PayloadData<P extends PayloadDefinition> = z.infer<P['dataSchema']>;

/**
 * Nova's versioned-object field types, as far as the compute node payloads use them
 * (oslo.versionedobjects `fields.IntegerField`, `StringField`, `UUIDField`, `IPAddressField`).
 *
 * A field carries everything the rest of the project derives from it: the zod schema that
 * validates the field in a parsed payload, the JSON Schema fragment the schema registry
 * publishes, and the type signature that the payload fingerprint hashes (Nova's
 * `test_notification.py` fingerprints `repr()` of each field the same way).
 * How a DynamoDB attribute becomes the field's JSON text is the hot path's business
 * (`../codec/attribute-codecs.ts`), keyed by {@link NovaFieldKind}.
 */
import * as z from 'zod/mini';
import { isNovaUuid } from '../codec/uuid.js';
import { normaliseIpAddress } from '../codec/ip-address.js';

export type NovaFieldKind = 'Integer' | 'String' | 'UUID' | 'IPAddress';

export interface NovaField<S extends z.ZodMiniType = z.ZodMiniType> {
  readonly kind: NovaFieldKind;
  readonly nullable: boolean;
  /** Validates the field's value in a payload parsed with `JSON.parse`. */
  readonly schema: S;
  /** JSON Schema (draft 4) of the field's value on the wire. */
  readonly jsonSchema: Record<string, unknown>;
  /** Nova's `repr()` of the field type, e.g. `String(nullable=True)`; hashed into the fingerprint. */
  readonly signature: string;
}

/** Schemas that stand for a Nova field, so JSON Schema generation can substitute the wire form. */
export const novaFieldJsonSchemas = new WeakMap<z.ZodMiniType, Record<string, unknown>>();

/** Builds a field type constructor with Nova's call shape: `IntegerField()`, `IntegerField({ nullable: true })`. */
function fieldType<B extends z.ZodMiniType>(kind: NovaFieldKind, base: B, wire: Record<string, unknown>) {
  function make(): NovaField<B>;
  function make(opts: { nullable: true }): NovaField<z.ZodMiniNullable<B>>;
  function make(opts?: { nullable?: boolean }): NovaField {
    const nullable = opts?.nullable ?? false;
    const schema: z.ZodMiniType = nullable ? z.nullable(base) : base;
    const jsonSchema = nullable ? { anyOf: [wire, { type: 'null' }] } : wire;
    novaFieldJsonSchemas.set(schema, jsonSchema);
    return { kind, nullable, schema, jsonSchema, signature: nullable ? `${kind}(nullable=True)` : kind };
  }
  return make;
}

// Nova integers have no bound (Python ints); JSON.parse turns large ones into inexact
// numbers, which are still integral, so the check is only "integral".
const integer = z.number().check(z.refine(Number.isInteger, { message: 'must be an integer' }));
const uuid = z.string().check(z.refine(isNovaUuid, { message: 'must be a UUID as Python uuid.UUID() reads it' }));
const ipAddress = z.string().check(z.refine((s) => normaliseIpAddress(s) === s, { message: 'must be an IPv4 or IPv6 address in normalised form' }));

/** `fields.IntegerField()`: an integer of any size. */
export const IntegerField = fieldType('Integer', integer, { type: 'integer' });

/** `fields.StringField()`: any text. */
export const StringField = fieldType('String', z.string(), { type: 'string' });

/** `fields.UUIDField()`: a UUID string, passed through as written (Nova does not normalise it). */
export const UUIDField = fieldType('UUID', uuid, {
  type: 'string',
  pattern: '^(urn:)?(uuid:)?\\{*[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\\}*$',
});

/** `fields.IPAddressField()`: an IPv4 or IPv6 address, in netaddr's normalised text form. */
export const IPAddressField = fieldType('IPAddress', ipAddress, { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] });

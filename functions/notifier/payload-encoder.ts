/**
 * Payload definition → encoder: DynamoDB image → Nova's versioned-object primitive as JSON
 * text, byte for byte what Nova's `json.dumps(payload.obj_to_primitive())` writes.
 *
 * The field table, key prefixes and the object header are built once per definition at
 * start-up; encoding a record is then one pass of string concatenation.
 *
 * @example
 * ```ts
 * const encode = compilePayloadEncoder(ComputeNodePayload);
 * const result = encode(record.dynamodb.NewImage);
 * if (result.ok) console.log(result.json); // {"nova_object.name":"ComputeNodePayload",...}
 * ```
 */
import type { PayloadDefinition } from './contract/payload-definition.js';
import { codecFor, isProblem, type FieldCodec } from './codec/attribute-codecs.js';
import type { FieldIssue } from './errors.js';
import type { Image } from './stream-record.js';

export type EncodeResult =
  | { readonly ok: true; readonly json: string; readonly fields: readonly string[] }
  | { readonly ok: false; readonly issues: readonly FieldIssue[] };

export interface CompiledField {
  readonly name: string;
  /** The image attribute the field is read from (Nova's SCHEMA). */
  readonly attribute: string;
  readonly codec: FieldCodec;
}

/** The field table of a definition, in wire order. */
export function compileFields(def: PayloadDefinition): CompiledField[] {
  return Object.entries(def.fields).map(([name, field]) => ({
    name,
    attribute: def.source[name]![1],
    codec: codecFor(field.kind, field.nullable),
  }));
}

/** Builds the encoder for one payload definition. */
export function compilePayloadEncoder(def: PayloadDefinition): (image: Image) => EncodeResult {
  const fields = compileFields(def);
  const prefixes = fields.map((f, i) => (i === 0 ? '{' : ',') + JSON.stringify(f.name) + ':');
  const header =
    `{"nova_object.name":${JSON.stringify(def.name)},"nova_object.namespace":"nova",` +
    `"nova_object.version":${JSON.stringify(def.version)},"nova_object.data":`;
  return (image) => {
    let json = header;
    let issues: FieldIssue[] | undefined;
    const texts: string[] = new Array<string>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const value = image[f.attribute];
      const out = f.codec(value);
      if (isProblem(out)) {
        (issues ??= []).push(value === undefined ? { field: f.name, rule: out.rule } : { field: f.name, value, rule: out.rule });
      } else {
        texts[i] = out;
        json += prefixes[i]! + out;
      }
    }
    if (issues !== undefined) return { ok: false, issues };
    return { ok: true, json: json + '}}', fields: texts };
  };
}

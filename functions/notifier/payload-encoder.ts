/**
 * Payload definition → encoder: DynamoDB image → Nova's versioned-object primitive as JSON
 * text, byte for byte what Nova's `json.dumps(payload.obj_to_primitive())` writes.
 *
 * The field table, key prefixes and the object header are built once per definition at
 * start-up; encoding a record is then a pass that checks and encodes each field and, when a
 * notification needs the JSON, one of string concatenation.
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

/** The fields checked and encoded, without the object's JSON (for a caller that may not need it). */
export type FieldsResult = { readonly ok: true; readonly fields: readonly string[] } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

/** Image → the payload's JSON; `fields` and `json` split the same work in two steps. */
export interface PayloadEncoder {
  (image: Image): EncodeResult;
  /** Every field checked and encoded (its JSON text, in wire order), or the issues. */
  fields(image: Image): FieldsResult;
  /** The payload's JSON from the texts `fields` returned. */
  json(texts: readonly string[]): string;
}

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
export function compilePayloadEncoder(def: PayloadDefinition): PayloadEncoder {
  const fields = compileFields(def);
  const prefixes = fields.map((f, i) => (i === 0 ? '{' : ',') + JSON.stringify(f.name) + ':');
  const header =
    `{"nova_object.name":${JSON.stringify(def.name)},"nova_object.namespace":"nova",` +
    `"nova_object.version":${JSON.stringify(def.version)},"nova_object.data":`;

  function encodeFields(image: Image): FieldsResult {
    let issues: FieldIssue[] | undefined;
    const texts: string[] = new Array<string>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const value = image[f.attribute];
      const out = f.codec(value);
      if (isProblem(out)) (issues ??= []).push(value === undefined ? { field: f.name, rule: out.rule } : { field: f.name, value, rule: out.rule });
      else texts[i] = out;
    }
    return issues === undefined ? { ok: true, fields: texts } : { ok: false, issues };
  }

  function json(texts: readonly string[]): string {
    let out = header;
    for (let i = 0; i < texts.length; i++) out += prefixes[i]! + texts[i]!;
    return out + '}}';
  }

  const encode = (image: Image): EncodeResult => {
    const checked = encodeFields(image);
    return checked.ok ? { ok: true, json: json(checked.fields), fields: checked.fields } : checked;
  };
  return Object.assign(encode, { fields: encodeFields, json });
}

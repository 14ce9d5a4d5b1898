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
import { codecFor, isProblem, type FieldCodec, type FieldProblem } from './codec/attribute-codecs.js';
import type { FieldIssue } from './errors.js';
import type { AttributeValue, Image } from './stream-record.js';

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

/** The issue a field's problem is reported as: the field, the value (when there is one) and the rule. */
function issueOf(f: CompiledField, value: AttributeValue | undefined, problem: FieldProblem): FieldIssue {
  return value === undefined ? { field: f.name, rule: problem.rule } : { field: f.name, value, rule: problem.rule };
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
      if (isProblem(out)) (issues ??= []).push(issueOf(f, value, out));
      else texts[i] = out;
    }
    return issues === undefined ? { ok: true, fields: texts } : { ok: false, issues };
  }

  function json(texts: readonly string[]): string {
    let out = header;
    for (let i = 0; i < texts.length; i++) out += prefixes[i]! + texts[i]!;
    return out + '}}';
  }

  // One pass for the common case (creates, deletes): check, encode and concatenate together.
  const encode = (image: Image): EncodeResult => {
    let out = header;
    let issues: FieldIssue[] | undefined;
    const texts: string[] = new Array<string>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const value = image[f.attribute];
      const text = f.codec(value);
      if (isProblem(text)) {
        (issues ??= []).push(issueOf(f, value, text));
      } else {
        texts[i] = text;
        out += prefixes[i]! + text;
      }
    }
    return issues === undefined ? { ok: true, json: out + '}}', fields: texts } : { ok: false, issues };
  };
  return Object.assign(encode, { fields: encodeFields, json });
}

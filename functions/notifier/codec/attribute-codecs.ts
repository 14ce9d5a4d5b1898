/**
 * DynamoDB attribute value → the JSON text Nova writes for a field of a given kind.
 * A codec returns the JSON text, or a {@link FieldProblem} naming the rule the value broke.
 * These run for every field of every record, so they do no allocation on the common path.
 */
import type { NovaFieldKind } from '../contract/nova-fields.js';
import type { AttributeValue } from '../stream-record.js';
import { integerText } from './nova-integer.js';
import { novaJsonString } from './nova-json-string.js';
import { isNovaUuid } from './uuid.js';
import { normaliseIpAddress } from './ip-address.js';

export interface FieldProblem {
  readonly rule: string;
}

export type FieldCodec = (value: AttributeValue | undefined) => string | FieldProblem;

/** The single type key of an attribute value (`S`, `N`, `NULL`, ...). */
export function attributeType(value: AttributeValue): string | undefined {
  for (const key in value) return key;
  return undefined;
}

const TYPE_NAMES: Record<NovaFieldKind, string> = {
  Integer: 'a DynamoDB number (N)',
  String: 'a DynamoDB string (S)',
  UUID: 'a DynamoDB string (S) holding a UUID',
  IPAddress: 'a DynamoDB string (S) holding an IP address',
};

function fromText(kind: NovaFieldKind, text: string): string | FieldProblem {
  switch (kind) {
    case 'String':
      return novaJsonString(text) ?? { rule: 'must be valid Unicode text (it holds a lone surrogate)' };
    case 'UUID':
      if (!isNovaUuid(text)) return { rule: 'must be a UUID (32 hex digits, optionally with hyphens, braces or urn:uuid:)' };
      return novaJsonString(text) ?? { rule: 'must be valid Unicode text' };
    case 'IPAddress': {
      const ip = normaliseIpAddress(text);
      return ip === undefined ? { rule: 'must be an IPv4 dotted quad or an IPv6 address' } : '"' + ip + '"';
    }
    case 'Integer':
      return { rule: `must be ${TYPE_NAMES.Integer}` };
  }
}

/** The codec for a field of `kind`; `nullable` fields take NULL or a missing attribute as `null`. */
export function codecFor(kind: NovaFieldKind, nullable: boolean): FieldCodec {
  const wantedType = kind === 'Integer' ? 'N' : 'S';
  const missing: string | FieldProblem = nullable ? 'null' : { rule: 'is required' };
  const isNull: string | FieldProblem = nullable ? 'null' : { rule: 'must not be null' };
  const wrongType: FieldProblem = { rule: `must be ${TYPE_NAMES[kind]}${nullable ? ' or NULL' : ''}` };
  return (value) => {
    if (value === undefined) return missing;
    if (typeof value !== 'object' || value === null) return wrongType;
    const type = attributeType(value);
    if (type === wantedType) {
      const text = value[type];
      if (typeof text !== 'string') return wrongType;
      if (kind !== 'Integer') return fromText(kind, text);
      const n = integerText(text);
      return n.ok ? n.digits : { rule: n.rule };
    }
    if (type === 'NULL' && value.NULL === true) return isNull;
    return wrongType;
  };
}

/** True when a codec result is a problem rather than JSON text. */
export function isProblem(result: string | FieldProblem): result is FieldProblem {
  return typeof result !== 'string';
}

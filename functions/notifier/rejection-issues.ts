/**
 * The fields to blame for an entry EventBridge refused for its content. PutEvents takes a JSON
 * integer only within 64 bits (API reference, PutEvents: "a minimum value of
 * -9,223,372,036,854,775,808 and a maximum value of 9,223,372,036,854,775,807") and refuses the
 * entry with `MalformedDetail`, whose message names no field. Nova writes any integer as it is,
 * so the notifier sends it; this names, for the quarantine message, each payload field that
 * broke the limit, with its value and the rule. Runs only for refused entries, off the hot path.
 */
import { ComputeNodeDeletePayload, ComputeNodePayload, type EventType } from './contract/index.js';
import type { PayloadDefinition } from './contract/payload-definition.js';
import { compileFields } from './payload-encoder.js';
import { isProblem } from './codec/attribute-codecs.js';
import type { FieldIssue } from './errors.js';
import { StreamRecord } from './stream-record.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// Fewer than 19 digits is always within 64 bits: only longer ones are parsed.
const LONG_INTEGER = /^-?\d{19,}$/;

/** True for a field's JSON text that is an integer outside 64 bits, which PutEvents refuses. */
export function beyond64Bits(json: string): boolean {
  if (json.length < 19 || !LONG_INTEGER.test(json)) return false;
  const n = BigInt(json);
  return n < INT64_MIN || n > INT64_MAX;
}

const RULE = 'must be from -9223372036854775808 to 9223372036854775807: EventBridge refuses a JSON integer outside 64 bits (PutEvents)';

const integerFields = (def: PayloadDefinition) => compileFields(def).filter((f) => def.fields[f.name]?.kind === 'Integer');
const NODE_INTEGERS = integerFields(ComputeNodePayload);
const DELETE_INTEGERS = integerFields(ComputeNodeDeletePayload);

/**
 * The payload's integer fields outside 64 bits, in payload order, read from the image the
 * notification of `eventType` was built from (a REMOVE's old image, else the new one).
 */
export function int64Issues(raw: unknown, eventType: EventType): FieldIssue[] {
  const parsed = StreamRecord.safeParse(raw);
  if (!parsed.success) return [];
  const d = parsed.data.dynamodb;
  const image = parsed.data.eventName === 'REMOVE' ? d.OldImage : d.NewImage;
  if (image === undefined) return [];
  const issues: FieldIssue[] = [];
  for (const f of eventType === 'compute_node.delete' ? DELETE_INTEGERS : NODE_INTEGERS) {
    const value = image[f.attribute];
    // The field's own codec, as the entry was built with: its JSON text, or a problem.
    const text = f.codec(value);
    if (!isProblem(text) && beyond64Bits(text)) issues.push({ field: f.name, value, rule: RULE });
  }
  return issues;
}

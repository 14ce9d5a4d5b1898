/**
 * The one error a pattern can fail with, and how it names the place that is wrong.
 */

/** A path segment inside a pattern: an object key or an array index. */
export type PatternPathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a location as JSONPath (`$.detail["x-limit"][0].numeric[2]`), because
 * EventBridge field names are full of dashes and dots and a plain dotted path
 * would be ambiguous for exactly the names people use most (`detail-type`).
 */
export function formatPatternPath(segments: readonly PatternPathSegment[]): string {
  let out = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Thrown when a pattern would be rejected by EventBridge (PutRule / TestEventPattern).
 * `path` says where (JSONPath into the pattern) so a reader of a long pattern can go
 * straight to the offending value; the message repeats it with the rule that was broken.
 */
export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
  readonly path: string;
  /** The broken rule alone, without the location (the message has both). */
  readonly rule: string;

  constructor(segments: readonly PatternPathSegment[], rule: string) {
    const path = formatPatternPath(segments);
    super(`Invalid event pattern at ${path}: ${rule}`);
    this.path = path;
    this.rule = rule;
  }
}

/** Names a JSON value's type the way a pattern author thinks of it (array and null are not "object"). */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

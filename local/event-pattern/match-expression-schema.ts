/**
 * Validation of the elements of a leaf array: plain values and operator objects
 * (`{"prefix": ...}`, `{"numeric": [...]}`, ...). Each check mirrors a rule
 * EventBridge enforces when a rule is created, and names it in the error.
 */
import { describeJsonType, InvalidPatternError, type PatternPathSegment } from './invalid-pattern-error.js';
import { parseCidr, parseIpAddress } from './ip-address.js';
import type { NumericBound, ValueRule } from './pattern-ast.js';
import { parseWildcard } from './wildcard.js';

/** The operators a leaf-array object may use; also reserved as field names inside `$or`. */
export const OPERATORS = [
  'anything-but',
  'cidr',
  'equals-ignore-case',
  'exists',
  'numeric',
  'prefix',
  'suffix',
  'wildcard',
] as const;

/**
 * EventBridge documents numeric matching as limited to -5.0e9..+5.0e9; a bound outside it
 * is rejected rather than silently compared, so a pattern that works here works there.
 */
export const NUMERIC_LIMIT = 5e9;

type Path = readonly PatternPathSegment[];

function fail(path: Path, rule: string): never {
  throw new InvalidPatternError(path, rule);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The single key of an operator object; EventBridge allows exactly one per object. */
function singleEntry(value: Record<string, unknown>, path: Path, what: string): [string, unknown] {
  const entries = Object.entries(value);
  if (entries.length !== 1) {
    fail(path, `${what} must have exactly one key, got ${entries.length}${entries.length ? ` (${entries.map(([k]) => JSON.stringify(k)).join(', ')})` : ''}`);
  }
  return entries[0] as [string, unknown];
}

function requireString(value: unknown, path: Path, what: string): string {
  if (typeof value !== 'string') fail(path, `${what} must be a string, got ${describeJsonType(value)}`);
  return value;
}

function requireNumber(value: unknown, path: Path, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(path, `${what} must be a number, got ${describeJsonType(value)}`);
  }
  if (Math.abs(value) > NUMERIC_LIMIT) {
    fail(path, `${what} ${value} is outside the range EventBridge can compare (-5.0e9 to 5.0e9)`);
  }
  return value;
}

/** `"x"` or `{"equals-ignore-case": "x"}`: the two forms `prefix` and `suffix` accept. */
function parseAffix(value: unknown, path: Path, op: 'prefix' | 'suffix'): ValueRule {
  if (typeof value === 'string') return { op, value, ignoreCase: false };
  if (isPlainObject(value)) {
    const [key, inner] = singleEntry(value, path, `"${op}" object`);
    if (key !== 'equals-ignore-case') {
      fail([...path, key], `"${op}" accepts a string or {"equals-ignore-case": string}, not "${key}"`);
    }
    return { op, value: requireString(inner, [...path, key], `"${op}" / "equals-ignore-case" value`), ignoreCase: true };
  }
  return fail(path, `"${op}" must be a string or {"equals-ignore-case": string}, got ${describeJsonType(value)}`);
}

function parseWildcardRule(value: unknown, path: Path): ValueRule {
  const parsed = parseWildcard(requireString(value, path, '"wildcard" value'));
  if ('error' in parsed) fail(path, parsed.error);
  return { op: 'wildcard', pattern: parsed };
}

const LOWER_OPS: Record<string, boolean> = { '>': false, '>=': true };
const UPPER_OPS: Record<string, boolean> = { '<': false, '<=': true };

/** `["=", n]`, `[">"|">=", n]`, `["<"|"<=", n]` or `[">"|">=", n, "<"|"<=", m]` with n < m. */
function parseNumeric(value: unknown, path: Path): ValueRule {
  const form = 'expected ["=", n], [">", n], [">=", n], ["<", n], ["<=", n] or a range like [">", 0, "<=", 5]';
  if (!Array.isArray(value)) fail(path, `"numeric" must be an array (${form}), got ${describeJsonType(value)}`);
  if (value.length !== 2 && value.length !== 4) fail(path, `"numeric" has ${value.length} elements; ${form}`);
  const [op1, n1, op2, n2] = value as unknown[];
  const first = requireString(op1, [...path, 0], 'numeric operator');
  const firstValue = requireNumber(n1, [...path, 1], `value of "${first}"`);
  if (value.length === 2) {
    if (first === '=') return { op: 'numeric', lower: { value: firstValue, inclusive: true }, upper: { value: firstValue, inclusive: true } };
    if (first in LOWER_OPS) return { op: 'numeric', lower: { value: firstValue, inclusive: LOWER_OPS[first] ?? false } };
    if (first in UPPER_OPS) return { op: 'numeric', upper: { value: firstValue, inclusive: UPPER_OPS[first] ?? false } };
    return fail([...path, 0], `unknown numeric operator "${first}" (use =, >, >=, < or <=)`);
  }
  if (!(first in LOWER_OPS)) {
    fail([...path, 0], `a two-sided numeric range must start with ">" or ">=", got "${first}"`);
  }
  const second = requireString(op2, [...path, 2], 'numeric operator');
  if (!(second in UPPER_OPS)) {
    fail([...path, 2], `the second operator of a numeric range must be "<" or "<=", got "${second}"`);
  }
  const secondValue = requireNumber(n2, [...path, 3], `value of "${second}"`);
  if (!(firstValue < secondValue)) {
    fail(path, `numeric range is empty: the lower bound ${firstValue} must be less than the upper bound ${secondValue}`);
  }
  const lower: NumericBound = { value: firstValue, inclusive: LOWER_OPS[first] ?? false };
  const upper: NumericBound = { value: secondValue, inclusive: UPPER_OPS[second] ?? false };
  return { op: 'numeric', lower, upper };
}

/** A non-empty list of strings for the list forms of `anything-but`. */
function requireStringList(value: readonly unknown[], path: Path, what: string): string[] {
  if (value.length === 0) fail(path, `${what} list must not be empty`);
  return value.map((item, i) => requireString(item, [...path, i], `${what} list element`));
}

/**
 * `anything-but` takes a string, a number, a list of only strings or only numbers,
 * or one of {prefix}, {suffix}, {equals-ignore-case}, {wildcard}. It is stored as the
 * positive rules it excludes, so it reuses the positive matchers.
 */
function parseAnythingBut(value: unknown, path: Path): ValueRule {
  if (typeof value === 'string') return { op: 'anything-but', excluded: [{ op: 'equals', value }] };
  if (typeof value === 'number') {
    return { op: 'anything-but', excluded: [{ op: 'equals', value: requireNumber(value, path, '"anything-but" number') }] };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) fail(path, '"anything-but" list must not be empty');
    const allStrings = value.every((v) => typeof v === 'string');
    const allNumbers = value.every((v) => typeof v === 'number');
    if (!allStrings && !allNumbers) {
      fail(path, '"anything-but" list must contain only strings or only numbers (no mix, no null, booleans or objects)');
    }
    const excluded: ValueRule[] = value.map((v, i) =>
      typeof v === 'number' ? { op: 'equals', value: requireNumber(v, [...path, i], '"anything-but" number') } : { op: 'equals', value: v as string },
    );
    return { op: 'anything-but', excluded };
  }
  if (isPlainObject(value)) {
    const [key, inner] = singleEntry(value, path, '"anything-but" object');
    const innerPath = [...path, key];
    switch (key) {
      case 'prefix':
      case 'suffix': {
        const text = requireString(inner, innerPath, `"anything-but" / "${key}" value`);
        if (text === '') fail(innerPath, `"anything-but" / "${key}" must not be an empty string`);
        return { op: 'anything-but', excluded: [{ op: key, value: text, ignoreCase: false }] };
      }
      case 'equals-ignore-case': {
        const values = Array.isArray(inner)
          ? requireStringList(inner, innerPath, '"anything-but" / "equals-ignore-case"')
          : [requireString(inner, innerPath, '"anything-but" / "equals-ignore-case" value')];
        return { op: 'anything-but', excluded: values.map((v) => ({ op: 'equals-ignore-case', value: v })) };
      }
      case 'wildcard': {
        if (Array.isArray(inner)) {
          requireStringList(inner, innerPath, '"anything-but" / "wildcard"');
          return { op: 'anything-but', excluded: inner.map((v, i) => parseWildcardRule(v, [...innerPath, i])) };
        }
        return { op: 'anything-but', excluded: [parseWildcardRule(inner, innerPath)] };
      }
      default:
        return fail(innerPath, `"anything-but" accepts prefix, suffix, equals-ignore-case or wildcard inside an object, not "${key}"`);
    }
  }
  return fail(path, `"anything-but" must be a string, a number, a list of strings or numbers, or an object, got ${describeJsonType(value)}`);
}

function parseOperator(element: Record<string, unknown>, path: Path): ValueRule {
  const [key, value] = singleEntry(element, path, 'a match expression');
  const valuePath = [...path, key];
  switch (key) {
    case 'prefix':
    case 'suffix':
      return parseAffix(value, valuePath, key);
    case 'equals-ignore-case':
      return { op: 'equals-ignore-case', value: requireString(value, valuePath, '"equals-ignore-case" value') };
    case 'wildcard':
      return parseWildcardRule(value, valuePath);
    case 'numeric':
      return parseNumeric(value, valuePath);
    case 'anything-but':
      return parseAnythingBut(value, valuePath);
    case 'exists':
      if (typeof value !== 'boolean') fail(valuePath, `"exists" must be true or false, got ${describeJsonType(value)}`);
      return { op: 'exists', exists: value };
    case 'cidr': {
      const range = parseCidr(requireString(value, valuePath, '"cidr" value'));
      if ('error' in range) fail(valuePath, range.error);
      return { op: 'cidr', range };
    }
    default:
      return fail(path, `unknown operator "${key}" (known: ${OPERATORS.join(', ')})`);
  }
}

/** Validates one element of a leaf array (a JSON scalar or an operator object). */
export function parseMatchElement(element: unknown, path: Path): ValueRule {
  if (element === null || typeof element === 'boolean') return { op: 'equals', value: element };
  if (typeof element === 'number') {
    if (!Number.isFinite(element)) fail(path, 'numbers must be finite');
    return { op: 'equals', value: element };
  }
  if (typeof element === 'string') {
    const ip = parseIpAddress(element);
    return ip ? { op: 'equals', value: element, ip } : { op: 'equals', value: element };
  }
  if (isPlainObject(element)) return parseOperator(element, path);
  return fail(path, `a match value must be a string, number, boolean, null or an operator object, got ${describeJsonType(element)}`);
}

/**
 * Validation of a pattern's structure: objects whose leaves are non-empty arrays,
 * and `$or` clauses. The elements of leaf arrays are validated by match-expression-schema.
 */
import { describeJsonType, InvalidPatternError, type PatternPathSegment } from './invalid-pattern-error.js';
import { OPERATORS, parseMatchElement } from './match-expression-schema.js';
import type { LeafField, NestedField, ObjectPattern, OrClause } from './pattern-ast.js';

type Path = readonly PatternPathSegment[];

const OR_KEY = '$or';
const OPERATOR_NAMES: ReadonlySet<string> = new Set(OPERATORS);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseLeaf(key: string, values: readonly unknown[], path: Path): LeafField {
  if (values.length === 0) throw new InvalidPatternError(path, 'empty arrays are not allowed: list at least one value to match');
  return { kind: 'leaf', key, rules: values.map((element, i) => parseMatchElement(element, [...path, i])) };
}

function parseOr(value: unknown, path: Path): OrClause {
  if (!Array.isArray(value)) {
    throw new InvalidPatternError(path, `"$or" must be an array of pattern objects, got ${describeJsonType(value)}`);
  }
  if (value.length < 2) {
    throw new InvalidPatternError(path, `"$or" must list at least 2 pattern objects, got ${value.length}`);
  }
  const alternatives = value.map((alternative, i) => {
    const altPath = [...path, i];
    if (!isPlainObject(alternative)) {
      throw new InvalidPatternError(altPath, `each "$or" alternative must be a pattern object, got ${describeJsonType(alternative)}`);
    }
    return parseObject(alternative, altPath, true);
  });
  return { kind: 'or', alternatives };
}

function parseObject(value: Record<string, unknown>, path: Path, insideOr: boolean): ObjectPattern {
  const entries = Object.entries(value);
  if (entries.length === 0) throw new InvalidPatternError(path, 'empty objects are not allowed');
  const members: (LeafField | NestedField | OrClause)[] = [];
  for (const [key, child] of entries) {
    const childPath = [...path, key];
    if (key === OR_KEY) {
      members.push(parseOr(child, childPath));
      continue;
    }
    if (insideOr && OPERATOR_NAMES.has(key)) {
      throw new InvalidPatternError(childPath, `"${key}" is an operator and cannot be used as a field name inside "$or"; operators go inside a field's array, e.g. "field": [{"${key}": ...}]`);
    }
    if (Array.isArray(child)) {
      members.push(parseLeaf(key, child, childPath));
    } else if (isPlainObject(child)) {
      members.push({ kind: 'nested', key, pattern: parseObject(child, childPath, insideOr) });
    } else {
      const hint = OPERATOR_NAMES.has(key)
        ? `; "${key}" is an operator: wrap it in the field's array, e.g. "field": [{"${key}": ${JSON.stringify(child)}}]`
        : `; wrap the value in an array: [${JSON.stringify(child)}]`;
      throw new InvalidPatternError(childPath, `a pattern field must be an array of values or a nested object, got ${describeJsonType(child)}${hint}`);
    }
  }
  return { members };
}

/**
 * Validates a parsed JSON pattern and returns its typed form.
 * Throws InvalidPatternError at the first rule EventBridge would reject, naming its path.
 */
export function parsePattern(pattern: unknown): ObjectPattern {
  if (!isPlainObject(pattern)) {
    const hint = typeof pattern === 'string' ? ' (parse the JSON text first)' : '';
    throw new InvalidPatternError([], `an event pattern must be a JSON object, got ${describeJsonType(pattern)}${hint}`);
  }
  return parseObject(pattern, [], false);
}

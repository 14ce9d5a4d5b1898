/**
 * Flattens an event into its leaf values, keyed by field path, the way EventBridge
 * sees an event: arrays add no path segment (`"resources": ["a", "b"]` is two values
 * of `resources`), objects are not values (so `exists` only sees leaves), and an
 * empty array contributes nothing (the field is treated as absent).
 *
 * Each value remembers which element of which array it came from, so the matcher can
 * refuse to combine fields from different elements of the same array (EventBridge's
 * "array-consistent" matching: `{"name": "Anna"}, {"name": "Jo", "last": "Smith"}`
 * does not match name=Anna AND last=Smith).
 */
import type { JsonScalar } from './pattern-ast.js';

/** One leaf value and, for every array it sits in, the element index it sits at. */
export interface LeafValue {
  readonly value: JsonScalar;
  /** Array id → element index. Ids are unique within one flattened event. */
  readonly arrays: ReadonlyMap<number, number>;
}

/** Leaf values by path key (see pathKey). */
export type FlatEvent = ReadonlyMap<string, readonly LeafValue[]>;

/**
 * Joins path segments unambiguously: EventBridge field names may contain dots,
 * so `{"a.b": 1}` and `{"a": {"b": 1}}` must not collide.
 */
export function pathKey(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

const NO_ARRAYS: ReadonlyMap<number, number> = new Map();

/** An event that is not a JSON object has no fields: only `exists: false` patterns can match it. */
export function flattenEvent(event: unknown): FlatEvent {
  const out = new Map<string, LeafValue[]>();
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return out;
  let nextArrayId = 0;

  const visit = (node: unknown, path: readonly string[], arrays: ReadonlyMap<number, number>): void => {
    if (Array.isArray(node)) {
      const id = nextArrayId;
      nextArrayId += 1;
      node.forEach((element, index) => visit(element, path, new Map(arrays).set(id, index)));
      return;
    }
    if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) visit(child, [...path, key], arrays);
      return;
    }
    if (node === null || typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      const key = pathKey(path);
      const list = out.get(key);
      const leaf: LeafValue = { value: node, arrays };
      if (list) list.push(leaf);
      else out.set(key, [leaf]);
    }
    // undefined, functions, symbols, bigints: not JSON, so not part of the event.
  };

  visit(event, [], NO_ARRAYS);
  return out;
}

/**
 * The validated form of an event pattern: what the schema produces and the matcher consumes.
 * Keeping it separate from raw JSON means the matcher never re-checks shapes.
 */
import type { CidrRange, IpAddress } from './ip-address.js';
import type { WildcardPattern } from './wildcard.js';

/** A JSON scalar as it can appear as a leaf of an event. */
export type JsonScalar = string | number | boolean | null;

/** One bound of a numeric range. */
export interface NumericBound {
  readonly value: number;
  readonly inclusive: boolean;
}

/**
 * One element of a leaf array in a pattern. The leaf matches when any of its rules
 * matches (`exists: false` is the odd one out: it is about the absence of a value).
 */
export type ValueRule =
  /** `"x"`, `5`, `true`, `null`. `ip` is set when a string is an IP address (matches any spelling of it). */
  | { readonly op: 'equals'; readonly value: JsonScalar; readonly ip?: IpAddress }
  | { readonly op: 'prefix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly op: 'suffix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly op: 'equals-ignore-case'; readonly value: string }
  | { readonly op: 'wildcard'; readonly pattern: WildcardPattern }
  | { readonly op: 'numeric'; readonly lower?: NumericBound; readonly upper?: NumericBound }
  | { readonly op: 'cidr'; readonly range: CidrRange }
  | { readonly op: 'exists'; readonly exists: boolean }
  /** Matches a present value that none of `excluded` matches. */
  | { readonly op: 'anything-but'; readonly excluded: readonly ValueRule[] };

/** `"field": [ ...rules ]`: a leaf of the pattern. */
export interface LeafField {
  readonly kind: 'leaf';
  readonly key: string;
  readonly rules: readonly ValueRule[];
}

/** `"field": { ... }`: the event's field must be an object (or array of objects) matching it. */
export interface NestedField {
  readonly kind: 'nested';
  readonly key: string;
  readonly pattern: ObjectPattern;
}

/** `"$or": [ {...}, {...} ]`: at least one alternative must match at this level. */
export interface OrClause {
  readonly kind: 'or';
  readonly alternatives: readonly ObjectPattern[];
}

/** A pattern object: all its members must match (AND). */
export interface ObjectPattern {
  readonly members: readonly (LeafField | NestedField | OrClause)[];
}

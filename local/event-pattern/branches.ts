/**
 * Turns a pattern tree into a list of flat conjunctions ("branches"), one per way of
 * choosing an alternative in every `$or`. A pattern matches when any branch matches;
 * a branch matches when all its leaf conditions do. Flattening the ORs up front keeps
 * the array-consistency search (match-event.ts) a plain conjunction.
 */
import { InvalidPatternError, type PatternPathSegment } from './invalid-pattern-error.js';
import type { ObjectPattern } from './pattern-ast.js';
import { pathKey } from './flatten-event.js';
import { compileLeaf, type LeafMatcher } from './value-matchers.js';

/** One leaf of the pattern, at its full path from the event root. */
export interface Condition {
  readonly pathKey: string;
  readonly matcher: LeafMatcher;
}

export type Branch = readonly Condition[];

/**
 * A guard against patterns whose nested `$or`s multiply into a number of combinations
 * no one wrote on purpose (ten nested two-way `$or`s already make 1024).
 */
export const MAX_BRANCHES = 4096;

function cross(left: readonly Branch[], right: readonly Branch[], at: readonly PatternPathSegment[]): Branch[] {
  if (left.length * right.length > MAX_BRANCHES) {
    throw new InvalidPatternError(at, `the "$or" alternatives combine into more than ${MAX_BRANCHES} cases; simplify the pattern`);
  }
  return left.flatMap((l) => right.map((r) => [...l, ...r]));
}

function expand(pattern: ObjectPattern, fieldPath: readonly string[], at: readonly PatternPathSegment[]): Branch[] {
  let branches: Branch[] = [[]];
  for (const member of pattern.members) {
    switch (member.kind) {
      case 'leaf': {
        const condition: Condition = { pathKey: pathKey([...fieldPath, member.key]), matcher: compileLeaf(member.rules) };
        branches = branches.map((branch) => [...branch, condition]);
        break;
      }
      case 'nested':
        branches = cross(branches, expand(member.pattern, [...fieldPath, member.key], [...at, member.key]), [...at, member.key]);
        break;
      case 'or': {
        const orAt = [...at, '$or'];
        const alternatives = member.alternatives.flatMap((alternative, i) => expand(alternative, fieldPath, [...orAt, i]));
        branches = cross(branches, alternatives, orAt);
        break;
      }
    }
  }
  return branches;
}

/** Expands a validated pattern into its branches (throws InvalidPatternError if there are too many). */
export function expandBranches(pattern: ObjectPattern): Branch[] {
  return expand(pattern, [], []);
}

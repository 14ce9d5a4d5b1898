/**
 * The public matching API: compile a pattern once, test many events.
 */
import { expandBranches, type Branch } from './branches.js';
import { flattenEvent, type FlatEvent, type LeafValue } from './flatten-event.js';
import { parsePattern } from './pattern-schema.js';

export type CompiledPattern = {
  /** True when EventBridge would deliver `event` to a rule with this pattern. */
  matches(event: unknown): boolean;
};

/** Two leaf values can be used together unless they come from different elements of the same array. */
function consistent(a: LeafValue, b: LeafValue): boolean {
  const [small, large] = a.arrays.size <= b.arrays.size ? [a.arrays, b.arrays] : [b.arrays, a.arrays];
  for (const [id, index] of small) {
    const other = large.get(id);
    if (other !== undefined && other !== index) return false;
  }
  return true;
}

/**
 * Candidates that sit in the same array elements are interchangeable for consistency,
 * so keeping one of each keeps the search small on events with long arrays of scalars.
 */
function distinctByArrays(values: readonly LeafValue[]): LeafValue[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const signature = [...value.arrays].map(([id, index]) => `${id}:${index}`).join(',');
    if (seen.has(signature)) return false;
    seen.add(signature);
    return true;
  });
}

function choose(candidates: readonly (readonly LeafValue[])[], i: number, chosen: LeafValue[]): boolean {
  const options = candidates[i];
  if (options === undefined) return true;
  for (const option of options) {
    if (chosen.every((c) => consistent(c, option))) {
      chosen.push(option);
      if (choose(candidates, i + 1, chosen)) return true;
      chosen.pop();
    }
  }
  return false;
}

function matchesBranch(branch: Branch, event: FlatEvent): boolean {
  const candidates: LeafValue[][] = [];
  for (const condition of branch) {
    const values = event.get(condition.pathKey) ?? [];
    if (values.length === 0) {
      // Absence is about the whole event, so it constrains nothing else.
      if (condition.matcher.matchesAbsence) continue;
      return false;
    }
    const matching = values.filter((leaf) => condition.matcher.test(leaf.value));
    if (matching.length === 0) return false;
    candidates.push(distinctByArrays(matching));
  }
  candidates.sort((a, b) => a.length - b.length);
  return choose(candidates, 0, []);
}

/**
 * Validates `pattern` (a parsed JSON object, as given to PutRule) and returns a matcher.
 * Validation happens here, not at match time, so a bad rule fails when it is written
 * rather than by silently never matching.
 * @throws InvalidPatternError naming the path and the broken rule.
 */
export function compilePattern(pattern: unknown): CompiledPattern {
  const branches = expandBranches(parsePattern(pattern));
  return {
    matches(event: unknown): boolean {
      const flat = flattenEvent(event);
      return branches.some((branch) => matchesBranch(branch, flat));
    },
  };
}

/**
 * One-shot form of compilePattern(pattern).matches(event), for tests and tools that
 * check a single event; compile once instead when testing many.
 * @throws InvalidPatternError when the pattern is invalid, whatever the event.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern).matches(event);
}

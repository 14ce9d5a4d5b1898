/**
 * What each rule of a leaf array means for one scalar value of the event.
 * Type discipline follows EventBridge: string operators only see strings, `numeric`
 * only sees JSON numbers (the string "5" is not 5), and `anything-but` matches any
 * present value, of any type, that its excluded rules do not match.
 */
import { cidrContains, parseIpAddress } from './ip-address.js';
import type { JsonScalar, NumericBound, ValueRule } from './pattern-ast.js';
import { wildcardMatches } from './wildcard.js';

export type ValuePredicate = (value: JsonScalar) => boolean;

/** The compiled leaf array: a test for present values, and whether absence also matches. */
export interface LeafMatcher {
  readonly test: ValuePredicate;
  /** True when the leaf has `{"exists": false}`: a field with no value at all matches. */
  readonly matchesAbsence: boolean;
}

function aboveLower(value: number, bound: NumericBound | undefined): boolean {
  if (!bound) return true;
  return bound.inclusive ? value >= bound.value : value > bound.value;
}

function belowUpper(value: number, bound: NumericBound | undefined): boolean {
  if (!bound) return true;
  return bound.inclusive ? value <= bound.value : value < bound.value;
}

function compileRule(rule: ValueRule): ValuePredicate {
  switch (rule.op) {
    case 'equals': {
      const expected = rule.value;
      const ip = rule.ip;
      if (ip) {
        // An address in the pattern matches any spelling of it ("2001:db8::1" = "2001:DB8:0:0:0:0:0:1").
        return (value) => {
          if (value === expected) return true;
          if (typeof value !== 'string') return false;
          const address = parseIpAddress(value);
          return address !== undefined && address.family === ip.family && address.value === ip.value;
        };
      }
      // JSON numbers are compared as numbers, so 300 and 300.0 are the same value.
      return (value) => value === expected;
    }
    case 'prefix': {
      if (!rule.ignoreCase) return (value) => typeof value === 'string' && value.startsWith(rule.value);
      const lowered = rule.value.toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase().startsWith(lowered);
    }
    case 'suffix': {
      if (!rule.ignoreCase) return (value) => typeof value === 'string' && value.endsWith(rule.value);
      const lowered = rule.value.toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase().endsWith(lowered);
    }
    case 'equals-ignore-case': {
      const lowered = rule.value.toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase() === lowered;
    }
    case 'wildcard':
      return (value) => typeof value === 'string' && wildcardMatches(rule.pattern, value);
    case 'numeric':
      return (value) => typeof value === 'number' && aboveLower(value, rule.lower) && belowUpper(value, rule.upper);
    case 'cidr':
      return (value) => {
        if (typeof value !== 'string') return false;
        const address = parseIpAddress(value);
        return address !== undefined && cidrContains(rule.range, address);
      };
    case 'exists':
      // exists:true matches any leaf value, null included; exists:false never matches a present value.
      return () => rule.exists;
    case 'anything-but': {
      const excluded = rule.excluded.map(compileRule);
      return (value) => !excluded.some((test) => test(value));
    }
  }
}

/** Compiles the rules of one leaf array (OR of its elements). */
export function compileLeaf(rules: readonly ValueRule[]): LeafMatcher {
  const tests = rules.map(compileRule);
  return {
    test: (value) => tests.some((test) => test(value)),
    matchesAbsence: rules.some((rule) => rule.op === 'exists' && !rule.exists),
  };
}

/**
 * EventBridge event-pattern matching, written here because no npm package follows
 * EventBridge's semantics closely enough (array consistency, leaf-only exists, typed
 * numeric matching, the newer operators) to trust a local test of a rule.
 */
export { InvalidPatternError } from './invalid-pattern-error.js';
export { compilePattern, matchesPattern, type CompiledPattern } from './match-event.js';

/**
 * The `wildcard` operator: `*` stands for any run of characters (including none),
 * `\*` for a literal star and `\\` for a literal backslash.
 *
 * Matching is done on the literal pieces between stars instead of through a RegExp:
 * a pattern is author-controlled and event values can be long, and a backtracking
 * regex built from `*a*a*a*b` is the classic way to spend seconds on one event.
 */

/** A wildcard pattern split on its (unescaped) stars: `a*b*c` is `["a", "b", "c"]`. */
export interface WildcardPattern {
  readonly source: string;
  readonly pieces: readonly string[];
}

/** Parses a wildcard pattern, or says which EventBridge rule it breaks. */
export function parseWildcard(source: string): WildcardPattern | { readonly error: string } {
  const pieces: string[] = [];
  let current = '';
  let previousWasStar = false;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i];
    if (char === '\\') {
      const next = source[i + 1];
      if (next !== '*' && next !== '\\') {
        return { error: `wildcard "${source}": a backslash must be followed by "*" or "\\" (at character ${i + 1})` };
      }
      current += next;
      i += 1;
      previousWasStar = false;
    } else if (char === '*') {
      if (previousWasStar) {
        return { error: `wildcard "${source}": consecutive wildcard characters ("**") are not allowed (at character ${i + 1})` };
      }
      pieces.push(current);
      current = '';
      previousWasStar = true;
    } else {
      current += char;
      previousWasStar = false;
    }
  }
  pieces.push(current);
  return { source, pieces };
}

/**
 * Greedy leftmost placement of the middle pieces is enough: with `*` as the only
 * metacharacter, if any placement works then the leftmost one does.
 */
export function wildcardMatches(pattern: WildcardPattern, value: string): boolean {
  const { pieces } = pattern;
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] ?? '';
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let cursor = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < pieces.length - 1; i += 1) {
    const piece = pieces[i] ?? '';
    const at = value.indexOf(piece, cursor);
    if (at < 0 || at + piece.length > end) return false;
    cursor = at + piece.length;
  }
  return true;
}

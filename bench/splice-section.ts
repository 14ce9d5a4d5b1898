/** Putting one measured section into bench/results.md in place of its old text. */

/**
 * `markdown` with the section whose heading starts with `heading` (e.g. `## 7b.`) replaced by
 * `section`, up to the next `## ` heading; without one, `section` goes before the first heading
 * of `before` found (tried in order), else at the end.
 */
export function spliceSection(markdown: string, section: readonly string[], heading: string, before: readonly string[]): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end < 0) end = lines.length;
    lines.splice(start, end - start, ...section);
    return lines.join('\n');
  }
  let at = -1;
  for (const b of before) {
    at = lines.findIndex((l) => l.startsWith(b));
    if (at >= 0) break;
  }
  lines.splice(at < 0 ? lines.length : at, 0, ...section);
  return lines.join('\n');
}

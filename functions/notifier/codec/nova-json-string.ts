/**
 * JSON string literals exactly as Nova's notifications carry them (Python's `json.dumps`
 * as the reference vectors show it): `"` and `\` are escaped, control characters below
 * U+0020 use the short forms `\b \f \n \r \t` or a lower-case `\u00XX` escape, and
 * everything else, non-ASCII and U+2028/U+2029 included, is written as itself.
 * `JSON.stringify` agrees except for lone surrogates, which it escapes: a lone surrogate
 * cannot be encoded as UTF-8, so it can neither have come from DynamoDB nor be sent to
 * EventBridge, and is reported instead.
 */

const PLAIN = /^[^\x00-\x1f"\\\ud800-\udfff]*$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The quoted JSON literal for `text`, or undefined when `text` holds a lone surrogate. */
export function novaJsonString(text: string): string | undefined {
  if (PLAIN.test(text)) return '"' + text + '"';
  if (LONE_SURROGATE.test(text)) return undefined;
  // For everything else JSON.stringify writes what Python writes: same short forms, same lower-case \u00XX.
  return JSON.stringify(text);
}

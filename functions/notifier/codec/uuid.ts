/**
 * Nova's `UUIDField` accepts what Python's `uuid.UUID(str)` accepts and passes the text
 * through unchanged (upper case, braces and `urn:uuid:` survive: vectors 39 and 41).
 * `uuid.UUID` drops every `urn:` and `uuid:`, strips braces from both ends, drops the
 * hyphens and then wants exactly 32 hex digits. Python's `int(x, 16)` would also take a
 * sign, white space or underscores there; those are not UUIDs, so we refuse them.
 */
const HEX32 = /^[0-9a-fA-F]{32}$/;
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `text` is a UUID in any of the spellings Python's `uuid.UUID()` reads. */
export function isNovaUuid(text: string): boolean {
  if (CANONICAL.test(text)) return true; // the common case, without the string surgery
  const hex = text.replaceAll('urn:', '').replaceAll('uuid:', '').replace(/^[{}]+|[{}]+$/g, '').replaceAll('-', '');
  return HEX32.test(hex);
}

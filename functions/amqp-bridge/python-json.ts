/**
 * JSON text as Python's `json.dumps` writes it with its defaults, which is what oslo.messaging
 * (`oslo_serialization.jsonutils.dumps`) and kombu put on the wire: `", "` and `": "` as
 * separators, every non-ASCII character escaped as `\uXXXX` (lower-case hex, UTF-16 surrogate
 * pairs above U+FFFF, and DEL), keys in insertion order. Numbers keep their source digits
 * ({@link JsonNumber}), so integers of any size are exact, as Python's are.
 */
import { JsonNumber, type ExactJson } from '../indexer/exact-json.js';

// Python escapes everything outside ' '..'~' (its ESCAPE_ASCII), DEL (U+007F) included.
const NON_ASCII = /[\u007f-\uffff]/g;

/** A string as Python writes it with `ensure_ascii=True`. */
export function pythonJsonString(s: string): string {
  // JSON.stringify escapes what Python escapes below U+0080 (\" \\ \b \f \n \r \t, other
  // controls as \u00xx, lone surrogates as \udxxx); Python also escapes DEL and everything above.
  return JSON.stringify(s).replace(NON_ASCII, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** `json.dumps(value)` with Python's defaults. */
export function pythonJsonDumps(value: ExactJson): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'string') return pythonJsonString(value);
  if (Array.isArray(value)) return '[' + value.map(pythonJsonDumps).join(', ') + ']';
  return '{' + Object.entries(value).map(([k, v]) => pythonJsonString(k) + ': ' + pythonJsonDumps(v)).join(', ') + '}';
}

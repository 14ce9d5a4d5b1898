/**
 * EventBridge refuses JSON integers outside the signed 64-bit range in an event ("For the
 * JSON number (integer) data type, the constraints are: a minimum value of
 * -9,223,372,036,854,775,808 and a maximum value of 9,223,372,036,854,775,807").
 * `JSON.parse` cannot tell (it rounds), so the text is scanned.
 */

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

/** The first integer literal of valid JSON `text` outside the signed 64-bit range, if any. */
export function firstInt64Overflow(text: string): string | undefined {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip a string, escapes included.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      const integerEnd = i;
      let integral = true;
      while (i < n && /[0-9.eE+-]/.test(text[i]!)) {
        integral = false;
        i++;
      }
      if (integral) {
        const literal = text.slice(start, integerEnd);
        // Fewer than 19 digits always fits; only longer literals need BigInt.
        if (literal.replace('-', '').length >= 19) {
          const value = BigInt(literal);
          if (value < MIN || value > MAX) return literal;
        }
      }
      continue;
    }
    i++;
  }
  return undefined;
}

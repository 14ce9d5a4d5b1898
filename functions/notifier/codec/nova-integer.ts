/**
 * Integers as Nova writes them: Python ints have no size limit and `json.dumps` writes
 * their exact decimal digits, so a DynamoDB number (a decimal string) becomes JSON text
 * without ever passing through a JavaScript `number` (which is exact only to 2^53).
 *
 * DynamoDB may spell an integral number with a fraction or exponent (`16384.0`, `1.5E3`);
 * that is still an integer and comes out as plain digits. A number with a non-zero
 * fraction is not an integer: Nova would truncate it (`int(500.9)` is 500), we refuse it.
 */

const CANONICAL = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
// DynamoDB numbers have at most 38 significant digits and an exponent up to 125.
const MAX_DIGITS = 200;

export type IntegerResult = { ok: true; digits: string } | { ok: false; rule: string };

/** The canonical decimal digits of the integer that DynamoDB number text denotes. */
export function integerText(text: string): IntegerResult {
  if (CANONICAL.test(text)) return text === '-0' ? { ok: true, digits: '0' } : { ok: true, digits: text };
  const m = DECIMAL.exec(text);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return { ok: false, rule: 'must be a decimal number' };
  const sign = m[1] === '-' ? '-' : '';
  const fraction = m[3] ?? '';
  const exponent = Number(m[4] ?? '0') - fraction.length;
  let digits = (m[2]! + fraction).replace(/^0+/, '');
  if (digits === '') return { ok: true, digits: '0' };
  if (exponent >= 0) {
    if (digits.length + exponent > MAX_DIGITS) return { ok: false, rule: `must have at most ${MAX_DIGITS} digits` };
    digits += '0'.repeat(exponent);
  } else {
    const cut = digits.length + exponent;
    if (!/^0*$/.test(digits.slice(Math.max(cut, 0)))) return { ok: false, rule: 'must be an integer, not a fraction' };
    digits = cut > 0 ? digits.slice(0, cut) : '0';
  }
  return { ok: true, digits: digits === '0' ? '0' : sign + digits };
}

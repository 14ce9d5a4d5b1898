/**
 * Instants as strings whose order is time order, for the resync sweep's rule (`timestamp < T`)
 * in code and in DynamoDB conditions: `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, always six fraction
 * digits). Reads Nova's `timestamp` (`2026-11-26 19:06:02` or with `.ffffff`) and ISO-8601
 * with a zone (`2026-11-26T19:06:02.123Z`, what a resync run's `started_at` may be).
 */

const NOVA = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)$/;

export class TimestampError extends Error {
  override readonly name = 'TimestampError';
}

/** The sortable form of a timestamp; throws a TimestampError naming `what` for any other text. */
export function timestampKey(text: string, what: string): string {
  const m = NOVA.exec(text);
  if (m !== null) return `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(6, '0')}`;
  if (ISO.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) {
      // Microseconds beyond the millisecond are kept from the text when the zone is UTC.
      const fraction = /\.(\d+)Z$/.exec(text)?.[1];
      const iso = new Date(ms).toISOString();
      const micros = fraction === undefined ? iso.slice(20, 23) + '000' : fraction.slice(0, 6).padEnd(6, '0');
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
    }
  }
  throw new TimestampError(`${what} ${JSON.stringify(text)} is not a timestamp (Nova's YYYY-MM-DD HH:MM:SS[.ffffff] or ISO-8601 with a zone)`);
}

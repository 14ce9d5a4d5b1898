/**
 * Nova's notification `timestamp`: Python's `str(datetime.utcnow())`, e.g.
 * `2026-11-26 19:10:59.581460`: a space instead of `T`, no zone, six fraction digits, and
 * no fraction at all when the microsecond is 0 (`2024-01-02 03:04:05`).
 */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

// Records of one batch mostly share their (second-granular) change time: remember the last.
let lastSeconds = NaN;
let lastText = '';

/** Nova's timestamp text for an instant given in epoch seconds (fractions kept to the microsecond). */
export function novaTimestamp(epochSeconds: number): string {
  if (epochSeconds === lastSeconds) return lastText;
  lastText = format(epochSeconds);
  lastSeconds = epochSeconds;
  return lastText;
}

function format(epochSeconds: number): string {
  const micros = Math.round(epochSeconds * 1e6);
  const whole = Math.floor(micros / 1e6);
  const fraction = micros - whole * 1e6;
  const d = new Date(whole * 1000);
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return fraction === 0 ? base : `${base}.${pad(fraction, 6)}`;
}

/**
 * IP addresses the way Nova's `IPAddressField` writes them: `str(netaddr.IPAddress(value))`
 * with netaddr 0.8.0 on glibc. IPv6 is parsed as `inet_pton` does and written as glibc's
 * `inet_ntop` does (lower case, the first longest run of two or more zero groups
 * compressed, `::a.b.c.d` and `::ffff:a.b.c.d` for embedded IPv4).
 *
 * IPv4 must be a plain dotted quad. netaddr 0.8.0 reads IPv4 with `inet_aton`, which also
 * takes `127.1`, octal `010.0.0.1`, hex and trailing junk (`1.2.3.4 x`); that is a silent
 * coercion of a malformed value, and this project rejects those instead (see docs/event-contract.md).
 */

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses IPv4 dotted-quad text into its four octets, or undefined. */
export function parseIpv4(text: string): [number, number, number, number] | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
}

/** Parses IPv6 text as glibc's `inet_pton(AF_INET6)` does, into eight 16-bit groups, or undefined. */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!, halves.length === 1);
  if (head === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = parseGroups(halves[1]!, true);
  if (tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Groups of one side of `::`; a dotted quad may end the address only (`last`). */
function parseGroups(side: string, last: boolean): number[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else if (last && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Writes eight 16-bit groups as glibc's `inet_ntop(AF_INET6)` does. */
export function formatIpv6(words: readonly number[]): string {
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`;
      return out;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** The address in Nova's normalised form, or undefined when it is not an IP address. */
export function normaliseIpAddress(text: string): string | undefined {
  if (DOTTED_QUAD.test(text)) return text;
  if (!text.includes(':')) return undefined;
  const words = parseIpv6(text);
  return words === undefined ? undefined : formatIpv6(words);
}

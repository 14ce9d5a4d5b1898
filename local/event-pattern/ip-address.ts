/**
 * IP addresses and CIDR ranges, for the `cidr` operator.
 * Addresses are compared as 128-bit (or 32-bit) integers so that every spelling of an
 * IPv6 address (`2001:db8::1`, `2001:DB8:0:0:0:0:0:1`) is the same address.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export interface CidrRange {
  readonly family: IpFamily;
  /** First address of the range (host bits cleared). */
  readonly first: bigint;
  readonly last: bigint;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };
const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!IPV4_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** Parses the colon-separated groups on one side of `::` (an IPv4 tail counts as two groups). */
function parseIpv6Groups(text: string, allowIpv4Tail: boolean): bigint[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: bigint[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    if (allowIpv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (IPV6_GROUP.test(part)) {
      groups.push(BigInt(`0x${part}`));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: bigint[];
  if (halves.length === 2) {
    const head = parseIpv6Groups(halves[0] ?? '', false);
    const tail = parseIpv6Groups(halves[1] ?? '', true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  } else {
    const all = parseIpv6Groups(text, true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  }
  return groups.reduce((acc, group) => (acc << 16n) | group, 0n);
}

/** Parses an IPv4 dotted quad or an IPv6 address; anything else (host names, zone ids) is not an address. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/**
 * Parses `address/prefix-length`. Returns a reason instead of throwing so the schema
 * can put it in an InvalidPatternError with the pattern path.
 * Host bits set in the address are allowed and ignored, the way `ip route` treats them.
 */
export function parseCidr(text: string): CidrRange | { readonly error: string } {
  const slash = text.indexOf('/');
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) {
    return { error: `"${text}" is not CIDR notation (expected one "/", e.g. "10.0.0.0/24" or "2001:db8::/32")` };
  }
  const address = parseIpAddress(text.slice(0, slash));
  if (address === undefined) return { error: `"${text.slice(0, slash)}" is not an IPv4 or IPv6 address` };
  const lengthText = text.slice(slash + 1);
  const bits = BITS[address.family];
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return { error: `prefix length "${lengthText}" must be an integer from 0 to ${bits} for an IPv${address.family} range` };
  }
  const hostBits = BigInt(bits - Number(lengthText));
  const hostMask = (1n << hostBits) - 1n;
  const first = address.value & ~hostMask;
  return { family: address.family, first, last: first | hostMask };
}

/** Families never mix: an IPv4 range does not contain IPv4-mapped IPv6 addresses, as in EventBridge's range check. */
export function cidrContains(range: CidrRange, address: IpAddress): boolean {
  return range.family === address.family && address.value >= range.first && address.value <= range.last;
}

/**
 * Query planning, as pure functions: which index answers a query, its key condition, its
 * filters, its direction, and the page token.
 *
 * - `host` given: the host index (a host has few nodes): all of them are read, filtered,
 *   sorted in memory.
 * - else `hypervisorType` given: the type index of the sort resource; the minimum on the
 *   sort resource is the key condition, the other minimums are filters.
 * - else: the fleet-wide index of the sort resource, likewise.
 *
 * The sort resource is `sort`, else the first resource with a minimum (vCPUs, RAM, disk),
 * else free vCPUs; the order is descending (most free first) unless `order: 'asc'` (best fit
 * first). Ties are broken by uuid, so the order is total and pages are stable: a page token
 * holds the sort key of the last node returned, and the next page starts after it.
 */
import { createHash } from 'node:crypto';
import { ATTR, FLEET, FLEET_INDEXES, HOST_INDEX, SORT_KEY_OF, SORT_RESOURCES, TYPE_INDEXES, type SortResource } from './indexer-table.js';
import { MAX_SORTABLE_DIGITS, sortableInteger } from './sortable-integer.js';

export interface NodeQuery {
  readonly hypervisorType?: string;
  readonly host?: string;
  readonly minFreeVcpus?: bigint;
  readonly minFreeRamMb?: bigint;
  readonly minFreeDiskGb?: bigint;
  readonly sort?: SortResource;
  readonly order?: 'asc' | 'desc';
  /** Nodes per page, 1–1000. @default 20 */
  readonly limit?: number;
  /** The `nextPage` of the previous answer to the same query. */
  readonly page?: string;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export interface QueryPlan {
  readonly indexName: string;
  readonly partitionKey: { readonly name: string; readonly value: string };
  /** The sort resource's key attribute (the order of the answer). */
  readonly sortKey: string;
  /** Lower bound on the sort key (the minimum on the sort resource), if any. */
  readonly lowerBound?: string;
  /** Key attribute → lower bound, for the other minimums; plus an equality on the type for the host index. */
  readonly filters: ReadonlyArray<{ readonly name: string; readonly op: '>=' | '='; readonly value: string }>;
  readonly ascending: boolean;
  /** The index is not in the sort order (host index): read everything, sort in memory. */
  readonly sortInMemory: boolean;
  /** Start after this sort key (from the page token). */
  readonly after?: string;
  readonly limit: number;
  /** Identifies the query (without page and limit) inside its page tokens. */
  readonly fingerprint: string;
}

const MIN_OF: Record<SortResource, keyof NodeQuery> = { free_vcpus: 'minFreeVcpus', free_ram_mb: 'minFreeRamMb', free_disk_gb: 'minFreeDiskGb' };

/** Parses a command-line minimum: an integer of at most MAX_SORTABLE_DIGITS digits. */
export function parseMinimum(flag: string, text: string): bigint {
  if (!/^-?\d+$/.test(text.trim())) throw new QueryError(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  const digits = text.trim().replace(/^-/, '').replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_SORTABLE_DIGITS) throw new QueryError(`${flag} has ${digits.length} digits; at most ${MAX_SORTABLE_DIGITS} are supported`);
  return BigInt(text.trim());
}

function fingerprintOf(q: NodeQuery, sort: SortResource, ascending: boolean): string {
  const canonical = JSON.stringify([q.hypervisorType ?? null, q.host ?? null, String(q.minFreeVcpus ?? ''), String(q.minFreeRamMb ?? ''), String(q.minFreeDiskGb ?? ''), sort, ascending]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

export function encodePageToken(fingerprint: string, after: string): string {
  return Buffer.from(JSON.stringify({ v: 1, q: fingerprint, a: after }), 'utf8').toString('base64url');
}

function decodePageToken(token: string, fingerprint: string): string {
  let value: { v?: unknown; q?: unknown; a?: unknown };
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof value;
  } catch {
    throw new QueryError('the page token is not one this query returned');
  }
  if (value?.v !== 1 || typeof value.a !== 'string' || typeof value.q !== 'string') throw new QueryError('the page token is not one this query returned');
  if (value.q !== fingerprint) throw new QueryError('the page token belongs to a different query (filters, sort or order changed)');
  return value.a;
}

export function planQuery(q: NodeQuery): QueryPlan {
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new QueryError(`limit must be a whole number from 1 to ${MAX_LIMIT}, got ${limit}`);
  if (q.hypervisorType === '') throw new QueryError('hypervisor type must not be empty');
  if (q.host === '') throw new QueryError('host must not be empty');
  for (const r of SORT_RESOURCES) {
    const min = q[MIN_OF[r]] as bigint | undefined;
    if (min !== undefined && (min < 0n ? -min : min).toString().length > MAX_SORTABLE_DIGITS) {
      throw new QueryError(`minimum ${r} has more than ${MAX_SORTABLE_DIGITS} digits`);
    }
  }
  const sort = q.sort ?? SORT_RESOURCES.find((r) => q[MIN_OF[r]] !== undefined) ?? 'free_vcpus';
  const ascending = q.order === 'asc';
  const fingerprint = fingerprintOf(q, sort, ascending);
  const after = q.page === undefined ? undefined : decodePageToken(q.page, fingerprint);
  const bound = (r: SortResource) => {
    const min = q[MIN_OF[r]] as bigint | undefined;
    return min === undefined ? undefined : sortableInteger(min);
  };

  const filters: Array<{ name: string; op: '>=' | '='; value: string }> = [];
  let indexName: string;
  let partitionKey: { name: string; value: string };
  let lowerBound: string | undefined;
  let sortInMemory = false;
  if (q.host !== undefined) {
    indexName = HOST_INDEX.name;
    partitionKey = { name: HOST_INDEX.partitionKey, value: q.host };
    sortInMemory = true;
    if (q.hypervisorType !== undefined) filters.push({ name: ATTR.hypervisorType, op: '=', value: q.hypervisorType });
    for (const r of SORT_RESOURCES) {
      const b = bound(r);
      if (b !== undefined) filters.push({ name: SORT_KEY_OF[r], op: '>=', value: b });
    }
  } else {
    const index = q.hypervisorType !== undefined ? TYPE_INDEXES[sort] : FLEET_INDEXES[sort];
    indexName = index.name;
    partitionKey = { name: index.partitionKey, value: q.hypervisorType ?? FLEET };
    lowerBound = bound(sort);
    for (const r of SORT_RESOURCES) {
      const b = bound(r);
      if (r !== sort && b !== undefined) filters.push({ name: SORT_KEY_OF[r], op: '>=', value: b });
    }
  }
  return {
    indexName,
    partitionKey,
    sortKey: SORT_KEY_OF[sort],
    ...(lowerBound === undefined ? {} : { lowerBound }),
    filters,
    ascending,
    sortInMemory,
    ...(after === undefined ? {} : { after }),
    limit,
    fingerprint,
  };
}

export interface QueryRequestShape {
  IndexName: string;
  KeyConditionExpression: string;
  FilterExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, { S: string }>;
  ScanIndexForward: boolean;
}

/** The DynamoDB Query input of a plan (without TableName, Limit, ExclusiveStartKey). */
export function queryRequest(plan: QueryPlan): QueryRequestShape {
  const names: Record<string, string> = { '#pk': plan.partitionKey.name };
  const values: Record<string, { S: string }> = { ':pk': { S: plan.partitionKey.value } };
  let keyCondition = '#pk = :pk';
  if (!plan.sortInMemory && (plan.after !== undefined || plan.lowerBound !== undefined)) {
    names['#sk'] = plan.sortKey;
    const after = plan.after;
    if (after !== undefined && plan.ascending) {
      values[':after'] = { S: after };
      keyCondition += ' AND #sk > :after';
    } else if (after !== undefined && plan.lowerBound !== undefined) {
      // Descending from the cursor down to the bound; the cursor's own node is skipped by the reader.
      values[':lo'] = { S: plan.lowerBound };
      values[':after'] = { S: after };
      keyCondition += ' AND #sk BETWEEN :lo AND :after';
    } else if (after !== undefined) {
      values[':after'] = { S: after };
      keyCondition += ' AND #sk < :after';
    } else {
      values[':lo'] = { S: plan.lowerBound! };
      keyCondition += ' AND #sk >= :lo';
    }
  }
  const filters = plan.filters.map((f, i) => {
    names[`#f${i}`] = f.name;
    values[`:f${i}`] = { S: f.value };
    return `#f${i} ${f.op} :f${i}`;
  });
  return {
    IndexName: plan.indexName,
    KeyConditionExpression: keyCondition,
    ...(filters.length === 0 ? {} : { FilterExpression: filters.join(' AND ') }),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: plan.ascending,
  };
}

/**
 * The query in words, with how fresh each free resource is: a resource whose field the
 * indexer reads at a resolution holds within it (`resolutions`, field → resolution), e.g.
 * `type QEMU, ≥ 32768 MB free RAM (within 1024 MB), sorted by free_ram_mb, most free first`.
 */
export function describeQuery(q: NodeQuery, resolutions: Readonly<Partial<Record<SortResource, number>>>): string {
  const UNITS: Record<SortResource, string> = { free_vcpus: 'free vCPUs', free_ram_mb: 'MB free RAM', free_disk_gb: 'GB free disk' };
  const UNIT: Record<SortResource, string> = { free_vcpus: 'vCPUs', free_ram_mb: 'MB', free_disk_gb: 'GB' };
  const within = (r: SortResource) => (resolutions[r] === undefined ? '' : ` (within ${resolutions[r]} ${UNIT[r]})`);
  const parts: string[] = [];
  if (q.hypervisorType !== undefined) parts.push(`type ${q.hypervisorType}`);
  if (q.host !== undefined) parts.push(`host ${q.host}`);
  for (const r of SORT_RESOURCES) {
    const min = q[MIN_OF[r]] as bigint | undefined;
    if (min !== undefined) parts.push(`≥ ${min} ${UNITS[r]}${within(r)}`);
  }
  const sort = q.sort ?? SORT_RESOURCES.find((r) => q[MIN_OF[r]] !== undefined) ?? 'free_vcpus';
  parts.push(`sorted by ${sort}${within(sort)}, ${q.order === 'asc' ? 'best fit first' : 'most free first'}`);
  return parts.join(', ');
}

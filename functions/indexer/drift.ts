/**
 * Drift: how a consumer's read model (the reference indexer's table) differs from the compute
 * node table, node by node. The table's side is rendered with the notifier's own payload
 * encoder, so "equal" means "what the notifier would send for this item now"; the read model's
 * side is the stored `nova_object.data`. Per node:
 *
 * - `missing`: live in the table (present, not soft-deleted), not live in the read model;
 * - `extra`: live in the read model, removed or soft-deleted in the table;
 * - `stale`: live in both, and a compared field differs (each such field is listed);
 * - `invalid`: the table's item is not a valid compute node (the notifier quarantines its
 *   records), and the read model cannot hold its current state.
 *
 * Only the compared fields count (by default the spec's watched fields and every field the
 * reference indexer reads): a field nobody watches may legitimately lag. A field the consumer
 * reads at a resolution (given with the check; `cli drift` defaults to the notifier's, else the
 * reference indexer's) is stale only when it differs by the resolution or more: within it, the
 * notifier promises no update (docs/field-resolution.md).
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ComputeNodePayload, HEARTBEAT_ITEM_KEY, SPEC_WATCHED_FIELDS, type ComputeNodeField } from '../notifier/contract/index.js';
import { compileFields, compilePayloadEncoder } from '../notifier/payload-encoder.js';
import { isSoftDeleted } from '../notifier/soft-delete.js';
import type { Image } from '../notifier/stream-record.js';
import { isLive, type Item } from './apply.js';
import { JsonNumber, parseExactJson, stringifyExactJson, type ExactJson } from './exact-json.js';
import { ATTR, NODE_PARTITION_KEY, STATE } from './indexer-table.js';
import { REFERENCE_INDEXER_READ_FIELDS, REFERENCE_INDEXER_RESOLUTIONS } from './read-fields.js';
import { resolutionProblem, type FieldResolutions } from '../notifier/field-resolution.js';

/** The fields compared by default: the spec's watched fields and the reference indexer's read fields, in payload order. */
export const DEFAULT_DRIFT_FIELDS: readonly ComputeNodeField[] = (Object.keys(ComputeNodePayload.fields) as ComputeNodeField[]).filter(
  (f) => SPEC_WATCHED_FIELDS.includes(f) || REFERENCE_INDEXER_READ_FIELDS.includes(f),
);

export class DriftFieldsError extends Error {
  override readonly name = 'DriftFieldsError';
}

/** Parses a comma-separated field list (payload field names), in payload order. */
export function parseDriftFields(text: string): ComputeNodeField[] {
  const known = Object.keys(ComputeNodePayload.fields);
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new DriftFieldsError('the field list names no field');
  for (const n of names) if (!known.includes(n)) throw new DriftFieldsError(`unknown field '${n}' (one of: ${known.join(', ')})`);
  return known.filter((f) => names.includes(f)) as ComputeNodeField[];
}

/** The resolutions the reference indexer declares: `cli drift`'s default when the notifier's are not given. */
export const DEFAULT_DRIFT_RESOLUTIONS: FieldResolutions = REFERENCE_INDEXER_RESOLUTIONS;

/** Parses `field=resolution,...` (or `exact`: none); each field an integer payload field, each resolution a whole number ≥ 1. */
export function parseDriftResolutions(text: string): FieldResolutions {
  if (text.trim() === 'exact') return {};
  const out: Partial<Record<ComputeNodeField, number>> = {};
  for (const pair of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [field = '', value = ''] = pair.split('=').map((s) => s.trim());
    const resolution = /^\d+$/.test(value) ? Number(value) : value;
    const problem = resolutionProblem(field, resolution);
    if (problem !== undefined) throw new DriftFieldsError(`resolution '${pair}': ${problem}`);
    out[field as ComputeNodeField] = resolution as number;
  }
  return out;
}

export interface FieldDifference {
  readonly field: string;
  /** JSON text of the value in the read model, and in the table (as the notifier encodes it). */
  readonly readModel: string;
  readonly table: string;
  /** The resolution compared within, for a field read at one. */
  readonly resolution?: number;
}

export type NodeDrift =
  | { readonly kind: 'missing'; readonly uuid: string }
  | { readonly kind: 'extra'; readonly uuid: string; readonly table: 'absent' | 'soft-deleted' }
  | { readonly kind: 'stale'; readonly uuid: string; readonly fields: readonly FieldDifference[] }
  | { readonly kind: 'invalid'; readonly uuid: string; readonly issues: readonly string[] };

export interface DriftReport {
  readonly differences: readonly NodeDrift[];
  /** Items read from each side (node items only on the read model's). */
  readonly tableItems: number;
  readonly readModelNodes: number;
  readonly liveInTable: number;
  readonly liveInReadModel: number;
  readonly fields: readonly string[];
  /** The resolutions compared within (fields not listed: exactly). */
  readonly resolutions: FieldResolutions;
}

type Obj = { [key: string]: ExactJson };
const isObject = (v: ExactJson | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

/** Builds the comparison for a field list and the resolutions it is read at; all set-up happens here. */
export function createDriftComparer(fields: readonly ComputeNodeField[], resolutions: FieldResolutions = {}) {
  const encode = compilePayloadEncoder(ComputeNodePayload);
  const compiled = compileFields(ComputeNodePayload);
  const compared = compiled
    .map((f, index) => ({ name: f.name, index, resolution: resolutions[f.name as ComputeNodeField] }))
    .filter((f) => fields.includes(f.name as ComputeNodeField));
  // Both sides through the exact-JSON writer: the same value is the same text whatever escapes the encoder chose.
  const canonical = (text: string) => stringifyExactJson(parseExactJson(text));

  /** The node's drift, or undefined when it agrees. `uuid` names it in the report. */
  return function compare(uuid: string, image: Image | undefined, item: Item | undefined): NodeDrift | undefined {
    const softDeleted = image === undefined ? undefined : isSoftDeleted(image);
    const liveInTable = image !== undefined && softDeleted === false;
    const liveInModel = isLive(item);
    if (!liveInTable) {
      if (image !== undefined && softDeleted !== true) return { kind: 'invalid', uuid, issues: [`deleted: ${JSON.stringify(image.deleted)} is not a soft-delete flag`] };
      return liveInModel ? { kind: 'extra', uuid, table: image === undefined ? 'absent' : 'soft-deleted' } : undefined;
    }
    const encoded = encode(image);
    if (!encoded.ok) return { kind: 'invalid', uuid, issues: encoded.issues.map((i) => `${i.field}: ${i.rule}`) };
    if (!liveInModel) return { kind: 'missing', uuid };
    let data: ExactJson;
    try {
      data = parseExactJson(item![ATTR.payload]?.S ?? '');
    } catch {
      data = null;
    }
    const stored = isObject(data) ? data : {};
    const differences: FieldDifference[] = [];
    for (const f of compared) {
      const table = canonical(encoded.fields[f.index]!);
      const value = stored[f.name];
      const readModel = value === undefined ? '(absent)' : stringifyExactJson(value);
      if (readModel === table) continue;
      if (f.resolution !== undefined && withinResolution(readModel, table, f.resolution)) continue;
      differences.push({ field: f.name, readModel, table, ...(f.resolution === undefined ? {} : { resolution: f.resolution }) });
    }
    return differences.length === 0 ? undefined : { kind: 'stale', uuid, fields: differences };
  };
}

/** Both integers (JSON text) and less than `resolution` apart. */
function withinResolution(readModel: string, table: string, resolution: number): boolean {
  if (!/^-?\d+$/.test(readModel) || !/^-?\d+$/.test(table)) return false;
  const gap = BigInt(readModel) - BigInt(table);
  return (gap < 0n ? -gap : gap) < BigInt(resolution);
}

async function scanAll(client: DynamoDBClient, tableName: string, each: (item: Item) => void): Promise<void> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(start === undefined ? {} : { ExclusiveStartKey: start }) }));
    for (const item of page.Items ?? []) each(item as Item);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

export interface DriftInput {
  /** The compute node table. */
  readonly tableName: string;
  /** The reference indexer's table. */
  readonly indexerTableName: string;
  /** @default DEFAULT_DRIFT_FIELDS */
  readonly fields?: readonly ComputeNodeField[];
  /** Resolutions of compared fields (what the notifier ran with, or the consumer's declaration). @default {} (every field exactly) */
  readonly resolutions?: FieldResolutions;
}

/**
 * Reads both tables (consistent Scans) and compares every node either side knows. The two
 * reads are not one snapshot: while the fleet writes, a node may show a difference that the
 * next notification removes; run it when writes are quiet, or twice.
 */
export async function checkDrift(client: DynamoDBClient, input: DriftInput): Promise<DriftReport> {
  const fields = input.fields ?? DEFAULT_DRIFT_FIELDS;
  const resolutions = Object.fromEntries(Object.entries(input.resolutions ?? {}).filter(([f]) => fields.includes(f as ComputeNodeField))) as FieldResolutions;
  const compare = createDriftComparer(fields, resolutions);
  const table = new Map<string, Image>();
  const model = new Map<string, Item>();
  let tableItems = 0;
  await scanAll(client, input.tableName, (item) => {
    const key = item[NODE_PARTITION_KEY]?.S;
    // The reserved heartbeat item is no node: neither compared nor counted.
    if (key === HEARTBEAT_ITEM_KEY) return;
    tableItems++;
    // The notifier reads images in Lambda's JSON form; a Scan's AttributeValues have the same shape for every type but binary.
    if (key !== undefined) table.set(key, item as unknown as Image);
  });
  await scanAll(client, input.indexerTableName, (item) => {
    const state = item[ATTR.state]?.S;
    if (state === STATE.live || state === STATE.deleted) model.set(item[ATTR.uuid]!.S!, item);
  });
  const uuids = [...new Set([...table.keys(), ...model.keys()])].sort();
  const differences: NodeDrift[] = [];
  for (const uuid of uuids) {
    const d = compare(uuid, table.get(uuid), model.get(uuid));
    if (d !== undefined) differences.push(d);
  }
  return {
    differences,
    tableItems,
    readModelNodes: model.size,
    liveInTable: [...table.values()].filter((i) => isSoftDeleted(i) === false).length,
    liveInReadModel: [...model.values()].filter(isLive).length,
    fields,
    resolutions,
  };
}

/** One line per node that differs. */
export function describeDrift(d: NodeDrift): string {
  switch (d.kind) {
    case 'missing':
      return `missing  ${d.uuid}  live in the table, not in the read model`;
    case 'extra':
      return `extra    ${d.uuid}  live in the read model, ${d.table === 'absent' ? 'not in the table' : 'soft-deleted in the table'}`;
    case 'stale':
      return `stale    ${d.uuid}  ${d.fields.map((f) => `${f.field}: read model ${f.readModel}, table ${f.table}${f.resolution === undefined ? '' : ` (${f.resolution} or more apart)`}`).join('; ')}`;
    case 'invalid':
      return `invalid  ${d.uuid}  the table's item is not a valid compute node (${d.issues.join('; ')})`;
  }
}

/** The closing line: counts by kind. */
export function summarizeDrift(r: DriftReport): string {
  const by = (k: NodeDrift['kind']) => r.differences.filter((d) => d.kind === k).length;
  const head = r.differences.length === 0 ? 'no drift' : `${r.differences.length} node(s) differ (missing ${by('missing')}, extra ${by('extra')}, stale ${by('stale')}, invalid ${by('invalid')})`;
  return `drift: ${head}; table: ${r.tableItems} items, ${r.liveInTable} live; read model: ${r.readModelNodes} nodes, ${r.liveInReadModel} live; fields compared: ${r.fields.join(', ')}${Object.keys(r.resolutions).length === 0 ? '' : `; within resolution: ${Object.entries(r.resolutions).map(([f, n]) => `${f} ${n}`).join(', ')}`}`;
}

/**
 * The read model on DynamoDB: conditional writes of notifications and the queries.
 *
 * A write is conditioned on the node's stored version (apply.ts's `decide`): the node's item
 * is replaced only by a newer notification, atomically, so concurrent or repeated deliveries
 * cannot regress it and a duplicate changes nothing.
 */
import {
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type TransactionCanceledException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../condition-failure.js';
import { decide, itemOf, storedVersion, type ApplyOutcome, type Item } from './apply.js';
import { ATTR } from './indexer-table.js';
import type { IndexerNotification } from './notification.js';
import { encodePageToken, planQuery, queryRequest, type NodeQuery, type QueryPlan } from './query-plan.js';
import { parseSortableInteger } from './sortable-integer.js';

/** The item holding the greatest threshold of the sweeps so far (resync-sweep.ts), under a key no node has. */
export const WATERMARK_KEY = 'resync_watermark';

const MAX_ATTEMPTS = 8;

/** A transaction's Put of an item whose key the table does not hold yet (its condition fails otherwise). */
export function putIfAbsent(tableName: string, item: Item) {
  return { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(#uuid)', ExpressionAttributeNames: { '#uuid': ATTR.uuid } } };
}

/**
 * Applies one notification; returns what happened. Throws for anything but a failed condition.
 *
 * A node the table holds: one PutItem conditioned on its stored version (apply.ts's `decide`).
 * A node it does not hold: a transaction of the PutItem (only if still absent) and a check
 * that the notification is not older than the sweeps' watermark, so a late notification cannot
 * create a node a sweep has judged not live. (The first attempt tells which case it is: a
 * failed condition returns the stored item, or none.)
 */
export async function writeNotification(client: DynamoDBClient, tableName: string, n: IndexerNotification): Promise<ApplyOutcome> {
  const item = itemOf(n);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_exists(#uuid) AND #ok < :ok AND (attribute_not_exists(#sb) OR #sb <= :ts)',
          ExpressionAttributeNames: { '#uuid': ATTR.uuid, '#ok': ATTR.orderKey, '#sb': ATTR.sweptBefore },
          ExpressionAttributeValues: { ':ok': { S: n.orderKey }, ':ts': { S: n.timestampKey } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'applied';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const stored = error.Item as Item | undefined;
      if (stored?.[ATTR.orderKey]?.S !== undefined) {
        const outcome = decide(storedVersion(stored), n);
        // 'applied' here: the item changed between the write and its read; try again.
        if (outcome !== 'applied') return outcome;
        continue;
      }
    }
    try {
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            putIfAbsent(tableName, item),
            {
              ConditionCheck: {
                TableName: tableName,
                Key: { [ATTR.uuid]: { S: WATERMARK_KEY } },
                ConditionExpression: 'attribute_not_exists(#sb) OR #sb <= :ts',
                ExpressionAttributeNames: { '#sb': ATTR.sweptBefore },
                ExpressionAttributeValues: { ':ts': { S: n.timestampKey } },
              },
            },
          ],
        }),
      );
      return 'applied';
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'stale';
      // The node was written meanwhile (or a transaction conflict): go round again.
      if (reasons[0]?.Code !== 'ConditionalCheckFailed' && reasons[0]?.Code !== 'TransactionConflict' && reasons[1]?.Code !== 'TransactionConflict') throw error;
    }
  }
  throw new Error(`node ${n.uuid}: the notification could not be applied after ${MAX_ATTEMPTS} attempts (the item kept changing)`);
}

/** A node in a query answer. */
export interface NodeResult {
  readonly uuid: string;
  readonly hypervisorType: string | undefined;
  readonly host: string | undefined;
  readonly freeVcpus: bigint;
  readonly freeRamMb: bigint;
  readonly freeDiskGb: bigint;
  /** `nova_object.data` of the notification that set this state, exact JSON text. */
  readonly dataJson: string;
  readonly payloadVersion: string;
  readonly timestamp: string;
  readonly origin: string;
}

export interface QueryAnswer {
  readonly nodes: NodeResult[];
  /** Pass as `page` to get the next page; absent on the last page. */
  readonly nextPage?: string;
  /** Items DynamoDB read for this page (before filters): the cost. */
  readonly itemsRead: number;
  readonly requests: number;
  readonly indexName: string;
}

export function nodeResult(item: Item): NodeResult {
  const s = (name: string) => item[name]?.S;
  const int = (n: string, k: string): bigint => {
    const number = item[n]?.N;
    if (number !== undefined) return BigInt(number);
    const key = s(k);
    return key === undefined ? 0n : parseSortableInteger(key);
  };
  return {
    uuid: s(ATTR.uuid)!,
    hypervisorType: s(ATTR.hypervisorType),
    host: s(ATTR.host),
    freeVcpus: int(ATTR.freeVcpus, ATTR.kVcpus),
    freeRamMb: int(ATTR.freeRamMb, ATTR.kRam),
    freeDiskGb: int(ATTR.freeDiskGb, ATTR.kDisk),
    dataJson: s(ATTR.payload) ?? '{}',
    payloadVersion: s(ATTR.payloadVersion) ?? '',
    timestamp: s(ATTR.timestamp) ?? '',
    origin: s(ATTR.origin) ?? '',
  };
}

/** Runs a query and returns one page. */
export async function queryNodes(client: DynamoDBClient, tableName: string, query: NodeQuery): Promise<QueryAnswer> {
  const plan = planQuery(query);
  const request = queryRequest(plan);
  const sortKeyOf = (item: Item) => item[plan.sortKey]?.S ?? '';
  const collected: Item[] = [];
  let itemsRead = 0;
  let requests = 0;
  let start: Item | undefined;
  let more = false;

  if (plan.sortInMemory) {
    // Host index: every node of the host, then sort, cursor and limit in memory.
    do {
      const page = await client.send(new QueryCommand({ TableName: tableName, ...request, ...(start ? { ExclusiveStartKey: start } : {}) }));
      requests++;
      itemsRead += page.ScannedCount ?? 0;
      collected.push(...((page.Items ?? []) as Item[]).filter((i) => i[plan.sortKey] !== undefined));
      start = page.LastEvaluatedKey as Item | undefined;
    } while (start !== undefined);
    collected.sort((a, b) => (sortKeyOf(a) < sortKeyOf(b) ? -1 : sortKeyOf(a) > sortKeyOf(b) ? 1 : 0) * (plan.ascending ? 1 : -1));
    const after = plan.after;
    const rest = after === undefined ? collected : collected.filter((i) => (plan.ascending ? sortKeyOf(i) > after : sortKeyOf(i) < after));
    return answer(rest.slice(0, plan.limit), rest.length > plan.limit, plan, itemsRead, requests);
  }

  // Filters make DynamoDB read more than it returns: read in larger pages then.
  const pageLimit = plan.filters.length > 0 ? Math.max(plan.limit, 500) : plan.limit + 1;
  while (collected.length < plan.limit) {
    const page = await client.send(
      new QueryCommand({ TableName: tableName, ...request, Limit: pageLimit, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    requests++;
    itemsRead += page.ScannedCount ?? 0;
    let items = (page.Items ?? []) as Item[];
    if (plan.after !== undefined) items = items.filter((i) => sortKeyOf(i) !== plan.after);
    const room = plan.limit - collected.length;
    collected.push(...items.slice(0, room));
    start = page.LastEvaluatedKey as Item | undefined;
    if (items.length > room) {
      more = true;
      break;
    }
    if (start === undefined) break;
  }
  return answer(collected, more || start !== undefined, plan, itemsRead, requests);
}

function answer(items: Item[], more: boolean, plan: QueryPlan, itemsRead: number, requests: number): QueryAnswer {
  const last = items.at(-1);
  const nextPage = more && last !== undefined ? encodePageToken(plan.fingerprint, last[plan.sortKey]!.S!) : undefined;
  return { nodes: items.map(nodeResult), ...(nextPage === undefined ? {} : { nextPage }), itemsRead, requests, indexName: plan.indexName };
}

/** A query answer as JSON text, integers exact. */
export function answerJson(a: QueryAnswer): string {
  const node = (n: NodeResult) =>
    `{"uuid":${JSON.stringify(n.uuid)},"hypervisor_type":${JSON.stringify(n.hypervisorType ?? null)},"host":${JSON.stringify(n.host ?? null)},` +
    `"free_vcpus":${n.freeVcpus},"free_ram_mb":${n.freeRamMb},"free_disk_gb":${n.freeDiskGb},` +
    `"updated":{"timestamp":${JSON.stringify(n.timestamp)},"origin":${JSON.stringify(n.origin)}},` +
    `"node":{"nova_object.version":${JSON.stringify(n.payloadVersion)},"data":${n.dataJson}}}`;
  return `{"nodes":[${a.nodes.map(node).join(',')}],"next_page":${a.nextPage === undefined ? 'null' : JSON.stringify(a.nextPage)}}`;
}

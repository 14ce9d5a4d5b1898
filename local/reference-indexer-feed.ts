/**
 * The reference indexer on the local pipeline: its table in DynamoDB Local, fed with what the
 * local bus delivers to the ReferenceIndexer route's target, the way SQS feeds the deployed
 * function (the message body is the event as EventBridge delivers it). Queries answer from
 * that table with the same code as `cli query`.
 *
 * @example
 * ```ts
 * const indexer = await startLocalReferenceIndexer(pipeline);
 * const answer = await indexer.query({ hypervisorType: 'QEMU', minFreeVcpus: 4n, limit: 5 });
 * await indexer.stop();
 * ```
 */
import { createIndexer, type IndexerStats } from '../functions/indexer/indexer.js';
import type { NodeQuery } from '../functions/indexer/query-plan.js';
import { queryNodes, type QueryAnswer } from '../functions/indexer/store.js';
import { createIndexerTable } from './indexer-table.js';
import type { LocalPipeline } from './pipeline.js';
import { routeSqsRecord, startFeedLoop } from './route-queue-feed.js';
import type { Delivery } from './targets.js';

/** The route the stack subscribes its reference indexer to (`infra/hypervisor-notifications-stack.ts`). */
export const REFERENCE_INDEXER_ROUTE = 'ReferenceIndexer';

export interface LocalReferenceIndexer {
  readonly tableName: string;
  /** The target whose deliveries feed the indexer, or undefined when the template has no such route. */
  readonly target: string | undefined;
  readonly stats: IndexerStats;
  query(query: NodeQuery): Promise<QueryAnswer>;
  /** Applies what has been delivered so far, and stops feeding. */
  stop(): Promise<void>;
}

/** Creates the indexer's table and starts applying the route's deliveries every `intervalMs`. */
export async function startLocalReferenceIndexer(pipeline: LocalPipeline, opts: { intervalMs?: number; onError?: (e: unknown) => void } = {}): Promise<LocalReferenceIndexer> {
  const tableName = await createIndexerTable(pipeline.ddb);
  const target = pipeline.deployment.rules.flatMap((r) => r.targets.map((t) => t.name)).find((name) => name.split('/').some((part) => part === REFERENCE_INDEXER_ROUTE || part === `Route${REFERENCE_INDEXER_ROUTE}`));
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  const index = createIndexer({ dynamodb: pipeline.ddb, tableName, logger: silent });
  const stats: IndexerStats = { applied: 0, duplicate: 0, stale: 0, failed: 0, runEvents: 0, swept: 0, sweepsPaused: 0 };
  let fed = 0;
  // Failed messages come again, as SQS would redeliver them.
  let retry: Delivery[] = [];

  async function feed(): Promise<void> {
    if (target === undefined) return;
    const all = pipeline.indexer.deliveries(target);
    const batch = [...retry, ...all.slice(fed)];
    fed = all.length;
    if (batch.length === 0) return;
    const byId = new Map(batch.map((d) => [d.event.id, d]));
    const out = await index({ Records: batch.map((d) => routeSqsRecord(d, target)) });
    for (const k of ['applied', 'duplicate', 'stale', 'runEvents', 'swept'] as const) stats[k] += out.stats[k];
    retry = out.batchItemFailures.flatMap((f) => byId.get(f.itemIdentifier) ?? []);
    stats.failed = retry.length;
  }

  const loop = startFeedLoop(feed, opts);
  return {
    tableName,
    target,
    stats,
    query: (query) => queryNodes(pipeline.ddb, tableName, query),
    stop: () => loop.stop(),
  };
}


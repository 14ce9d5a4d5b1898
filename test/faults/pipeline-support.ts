/**
 * Fault scenarios on the whole local pipeline (DynamoDB Local → poller → notifier → local
 * bus / quarantine), shared by `pipeline-faults.test.ts` and the soak:
 *
 * - {@link startFaultPipeline}: the pipeline with the notifier run by a {@link LambdaRuntime}
 *   (crashes, restarts, its function timeout), every accepted event captured;
 * - {@link observePipeline}: waits (bounded) until the poller has caught up, then reads the
 *   stream again from TRIM_HORIZON with a client of its own (the oracle's input, independent
 *   of the poller) and the table with a consistent Scan, for `checkInvariants`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, DeleteItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { InvokeOutcome } from '../../local/batch-delivery.js';
import { toLambdaImage, type LambdaStreamRecord } from '../../local/lambda-stream-record.js';
import { QUARANTINE_QUEUE, startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import type { TemplateRule } from '../../local/stack-template.js';
import type { DeliveredEvent } from '../../local/targets.js';
import type { Image, ImageProblems, Observation } from './invariants.js';
import { LambdaRuntime, waitUntil, type WorkloadWriter } from './support.js';

/** The fleet simulator's invalid writes put `<vcpus>.5` in vcpus: the oracle's knowledge of them. */
export const fleetProblems = (image: Image): ImageProblems | undefined => (/^\d+\.5$/.test(String(image.vcpus?.N ?? '')) ? { invalid: ['vcpus'] } : undefined);

export interface FaultPipeline {
  readonly pipeline: LocalPipeline;
  readonly runtime: LambdaRuntime;
  readonly delivered: DeliveredEvent[];
  readonly outcomes: InvokeOutcome[];
  /** Writes to the table (counted), for `randomWorkload` and `writeBadInput`. */
  readonly writer: WorkloadWriter & { writes: number };
  stop(): Promise<void>;
}

export interface FaultPipelineOptions {
  /** The function's timeout. @default 60000 */
  readonly timeoutMs?: number;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Lambda's retries of a failing batch: high, so outages end before anything is given up on. @default 10000 */
  readonly maxRetries?: number;
  readonly onInvoke?: (outcome: InvokeOutcome) => void;
  readonly tableName?: string;
  /** The bus the notifier is configured with, instead of the local bus (a bus that does not exist). */
  readonly notifierBusName?: string;
  /** The automatic redrive of given-up batches and its back-off. @default false (the scenarios check what the mapping gave up on) */
  readonly redrive?: false | { readonly baseDelaySeconds?: number; readonly maxDelaySeconds?: number };
  /** The notifier's environment as the template's function would set it (e.g. `WATCHED_FIELDS`). @default {} */
  readonly notifierEnvironment?: Record<string, string>;
  /** Rules on the local bus (the AMQP bridge's route). @default none */
  readonly extraRules?: readonly TemplateRule[];
}

/** Starts the pipeline with the notifier in a {@link LambdaRuntime}; `stop()` stops everything. */
export async function startFaultPipeline(opts: FaultPipelineOptions = {}): Promise<FaultPipeline> {
  const runDirectory = mkdtempSync(join(tmpdir(), 'fault-pipeline-'));
  const delivered: DeliveredEvent[] = [];
  const outcomes: InvokeOutcome[] = [];
  let runtime: LambdaRuntime | undefined;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let pipeline: LocalPipeline;
  try {
    pipeline = await startLocalPipeline({
      runDirectory,
      // No rules are needed: the invariants look at what the bus accepted.
      deployment: { rules: [], functionEnvironment: opts.notifierEnvironment ?? {}, eventSourceMapping: undefined },
      ...(opts.tableName === undefined ? {} : { tableName: opts.tableName }),
      logLevel: 'SILENT',
      batchSize: opts.batchSize ?? 100,
      maxRetries: opts.maxRetries ?? 10_000,
      pollIntervalMs: 100,
      functionTimeoutMs: timeoutMs,
      redrive: opts.redrive ?? false,
      ...(opts.extraRules === undefined ? {} : { extraRules: opts.extraRules }),
      wrapHandler: (base) => (event) => (runtime === undefined ? base(event) : runtime.handler(event)),
      onEvent: (e) => void delivered.push(e),
      onInvoke: (_, outcome) => {
        outcomes.push(outcome);
        opts.onInvoke?.(outcome);
      },
    });
  } catch (error) {
    rmSync(runDirectory, { recursive: true, force: true });
    throw error;
  }
  const p = pipeline;
  const config = opts.notifierBusName === undefined ? p.notifierConfig : { ...p.notifierConfig, eventBusName: opts.notifierBusName };
  runtime = new LambdaRuntime({ config, busEndpoint: p.busEndpoint, sqsEndpoint: p.sqsEndpoint, timeoutMs });
  const rt = runtime;
  const writer = {
    writes: 0,
    async put(item: Image) {
      writer.writes++;
      await p.ddb.send(new PutItemCommand({ TableName: p.tableName, Item: item as unknown as Record<string, AttributeValue> }));
    },
    async update(uuid: string, changes: Record<string, Image[string] | undefined>) {
      writer.writes++;
      const set = Object.entries(changes).filter(([, v]) => v !== undefined);
      const unset = Object.entries(changes).filter(([, v]) => v === undefined).map(([k]) => k);
      const names = Object.fromEntries([...set.map(([k]) => k), ...unset].map((k, i) => [`#a${i}`, k]));
      const parts = [
        set.length > 0 ? `SET ${set.map((_, i) => `#a${i} = :v${i}`).join(', ')}` : '',
        unset.length > 0 ? `REMOVE ${unset.map((_, i) => `#a${set.length + i}`).join(', ')}` : '',
      ];
      await p.ddb.send(
        new UpdateItemCommand({
          TableName: p.tableName,
          Key: { uuid: { S: uuid } },
          UpdateExpression: parts.filter((x) => x !== '').join(' '),
          ExpressionAttributeNames: names,
          ...(set.length > 0 ? { ExpressionAttributeValues: Object.fromEntries(set.map(([, v], i) => [`:v${i}`, v as unknown as AttributeValue])) } : {}),
        }),
      );
    },
    async remove(uuid: string) {
      writer.writes++;
      await p.ddb.send(new DeleteItemCommand({ TableName: p.tableName, Key: { uuid: { S: uuid } } }));
    },
  };
  return {
    pipeline: p,
    runtime: rt,
    delivered,
    outcomes,
    writer,
    stop: async () => {
      try {
        await p.stop();
      } finally {
        rt.close();
        rmSync(runDirectory, { recursive: true, force: true });
      }
    },
  };
}

/** Every record of the table's stream, read from TRIM_HORIZON with a client of its own, in Lambda's shape. */
export async function readWholeStream(pipeline: LocalPipeline): Promise<LambdaStreamRecord[]> {
  const streams = new DynamoDBStreamsClient(pipeline.dynamodb.clientConfig);
  try {
    const shards: { id: string; parent: string | undefined }[] = [];
    let start: string | undefined;
    do {
      const out = await streams.send(new DescribeStreamCommand({ StreamArn: pipeline.streamArn, ...(start === undefined ? {} : { ExclusiveStartShardId: start }) }));
      for (const s of out.StreamDescription?.Shards ?? []) if (s.ShardId !== undefined) shards.push({ id: s.ShardId, parent: s.ParentShardId });
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
    const records: LambdaStreamRecord[] = [];
    for (const shard of shards) {
      let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: pipeline.streamArn, ShardId: shard.id, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (iterator !== undefined && iterator !== null) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const batch = out.Records ?? [];
        // Converted as the poller converts them: a record carries the same creation time on every read.
        for (const r of batch) records.push(pipeline.poller.toLambdaRecord(r));
        if (batch.length === 0) break;
        iterator = out.NextShardIterator;
      }
    }
    return records;
  } finally {
    streams.destroy();
  }
}

/** The table's items, uuid → item (Lambda's JSON form), by a consistent Scan. */
export async function scanTable(pipeline: LocalPipeline): Promise<Map<string, Image>> {
  const items = new Map<string, Image>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await pipeline.ddb.send(new ScanCommand({ TableName: pipeline.tableName, ConsistentRead: true, ...(start === undefined ? {} : { ExclusiveStartKey: start }) }));
    for (const item of out.Items ?? []) items.set(item.uuid!.S!, toLambdaImage(item) as unknown as Image);
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/**
 * After the scenario's writes: reads the stream, waits (bounded polling) until the poller has
 * read and finished every record and the servers hold no request, then reads the table.
 */
export async function observePipeline(scenario: string, f: FaultPipeline, writes: number, timeoutMs = 120_000): Promise<Observation> {
  const records = await readWholeStream(f.pipeline);
  const caughtUp = () => {
    const s = f.pipeline.poller.stats;
    return s.records >= records.length && s.delivered + s.failed === s.records;
  };
  await waitUntil(caughtUp, `the poller to catch up with ${records.length} records (at ${JSON.stringify(f.pipeline.poller.stats)})`, timeoutMs);
  f.pipeline.eventBus.faults = undefined;
  f.pipeline.sqs.faults = undefined;
  const stats = f.pipeline.poller.stats;
  return {
    scenario,
    writes,
    records,
    table: await scanTable(f.pipeline),
    delivered: [...f.delivered],
    quarantined: f.pipeline.sqs.messages(QUARANTINE_QUEUE).map((m) => m.body),
    onFailure: [...f.pipeline.onFailureRecords],
    progress: { read: stats.records, done: stats.delivered + stats.failed },
    // The template's: the configured ones plus what the stack's consumers read.
    watchedFields: f.pipeline.notifierConfig.watchedFields,
  };
}

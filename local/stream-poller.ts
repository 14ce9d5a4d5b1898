/**
 * The event source mapping: what Lambda does for a DynamoDB stream, on this machine.
 *
 * Discovers the stream's shards (and, as shards close, their children), reads each shard
 * from TRIM_HORIZON once its parent is finished, polls it every 250 ms, and hands each
 * batch of records (in Lambda's shape) to {@link deliverBatch}, which honours the handler's
 * partial batch response, bisects on error, retries boundedly and gives up to the
 * on-failure destination. One batch per shard is in flight at a time, so per-item order holds.
 *
 * @example
 * ```ts
 * const poller = new StreamPoller({ streams, streamArn, handler, onFailure: (f) => file.write(f) });
 * poller.start();
 * // ...
 * await poller.stop();
 * ```
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type Shard,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { deliverBatch, type DeliveryResult, type InvokeOutcome, type OnFailureRecord, type StreamHandler } from './batch-delivery.js';
import { toLambdaRecord, type LambdaStreamRecord } from './lambda-stream-record.js';

export interface StreamPollerOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  readonly onFailure: (failure: OnFailureRecord) => void | Promise<void>;
  /** Records per invocation (Lambda: 1–10,000). @default 100 */
  readonly batchSize?: number;
  /** Wait between polls of a shard that returned less than a full batch. @default 250 */
  readonly pollIntervalMs?: number;
  /** How often the shard list is read again. @default 1000 */
  readonly discoveryIntervalMs?: number;
  /** @default 3 */
  readonly maxRetries?: number;
  /** @default true */
  readonly bisectOnError?: boolean;
  /** @default 60000 */
  readonly invocationTimeoutMs?: number;
  readonly retryDelayMs?: (retry: number) => number;
  /**
   * Stamp each record's ApproximateCreationDateTime with the time it was first read, to the
   * millisecond (DynamoDB Local truncates it to the minute; see `toLambdaRecord`). @default false
   */
  readonly stampReadTime?: boolean;
  /** Observers, for statistics and tests. */
  readonly onRecords?: (records: readonly LambdaStreamRecord[], shardId: string) => void;
  readonly onInvoke?: (records: readonly LambdaStreamRecord[], outcome: InvokeOutcome) => void;
  readonly onBatchDone?: (result: DeliveryResult, shardId: string) => void;
  /** Errors reading the stream (retried). @default ignored */
  readonly onError?: (error: unknown, where: string) => void;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  /** Last sequence number handed over and finished (delivered or given up on). */
  checkpoint: string | undefined;
  finished: boolean;
  worker?: Promise<void>;
}

const errorName = (error: unknown) => (typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '');

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private discovery: Promise<void> | undefined;
  private readonly wakers = new Set<() => void>();
  private counters = { records: 0, invocations: 0, delivered: 0, failed: 0 };

  constructor(private readonly opts: StreamPollerOptions) {}

  /** Records read, invocations made, records delivered and given up on so far. */
  get stats(): Readonly<{ records: number; invocations: number; delivered: number; failed: number; shards: number }> {
    return { ...this.counters, shards: this.shards.size };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.discovery = this.discoverLoop();
  }

  /** Stops polling; waits for the batch in flight on each shard to finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of this.wakers) wake();
    await this.discovery;
    await Promise.all([...this.shards.values()].map((s) => s.worker));
  }

  /** Sleeps, but wakes at once on stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async discoverLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.discoverShards();
      } catch (error) {
        this.opts.onError?.(error, 'DescribeStream');
      }
      this.startReadyShards();
      await this.pause(this.opts.discoveryIntervalMs ?? 1_000);
    }
  }

  private async discoverShards(): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    const found: Shard[] = [];
    do {
      const out = await this.opts.streams.send(
        new DescribeStreamCommand({ StreamArn: this.opts.streamArn, ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}) }),
      );
      found.push(...(out.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined && this.running);
    for (const shard of found) {
      if (shard.ShardId === undefined || this.shards.has(shard.ShardId)) continue;
      this.shards.set(shard.ShardId, { shardId: shard.ShardId, parentShardId: shard.ParentShardId, checkpoint: undefined, finished: false });
    }
  }

  /** A shard is read once its parent is finished or no longer in the stream (trimmed). */
  private startReadyShards(): void {
    for (const shard of this.shards.values()) {
      if (shard.worker !== undefined || shard.finished || !this.running) continue;
      const parent = shard.parentShardId === undefined ? undefined : this.shards.get(shard.parentShardId);
      if (parent !== undefined && !parent.finished) continue;
      shard.worker = this.readShard(shard);
    }
  }

  private async iterator(shard: ShardState): Promise<string | undefined> {
    const out = await this.opts.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.opts.streamArn,
        ShardId: shard.shardId,
        ...(shard.checkpoint === undefined
          ? { ShardIteratorType: 'TRIM_HORIZON' }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.checkpoint }),
      }),
    );
    return out.ShardIterator;
  }

  private async readShard(shard: ShardState): Promise<void> {
    const limit = this.opts.batchSize ?? 100;
    const interval = this.opts.pollIntervalMs ?? 250;
    let iterator: string | undefined;
    while (this.running) {
      let records: SdkStreamRecord[];
      let next: string | undefined;
      try {
        iterator ??= await this.iterator(shard);
        if (iterator === undefined) break;
        const out = await this.opts.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        records = out.Records ?? [];
        next = out.NextShardIterator;
      } catch (error) {
        const name = errorName(error);
        if (name === 'ExpiredIteratorException') {
          iterator = undefined; // read again after the checkpoint
          continue;
        }
        if (name === 'TrimmedDataAccessException') {
          shard.checkpoint = undefined; // what we had not read is gone: go on from the oldest record kept
          iterator = undefined;
          continue;
        }
        if (name === 'ResourceNotFoundException') break; // shard or stream gone
        this.opts.onError?.(error, `GetRecords ${shard.shardId}`);
        await this.pause(1_000);
        continue;
      }
      if (records.length > 0) {
        const readAt = this.opts.stampReadTime === true ? Date.now() : undefined;
        const batch = records.map((r) => toLambdaRecord(r, this.opts.streamArn, readAt));
        this.counters.records += batch.length;
        this.opts.onRecords?.(batch, shard.shardId);
        const result = await deliverBatch(batch, {
          handler: this.opts.handler,
          onFailure: this.opts.onFailure,
          shardId: shard.shardId,
          streamArn: this.opts.streamArn,
          ...(this.opts.maxRetries === undefined ? {} : { maxRetries: this.opts.maxRetries }),
          ...(this.opts.bisectOnError === undefined ? {} : { bisectOnError: this.opts.bisectOnError }),
          ...(this.opts.invocationTimeoutMs === undefined ? {} : { timeoutMs: this.opts.invocationTimeoutMs }),
          ...(this.opts.retryDelayMs === undefined ? {} : { retryDelayMs: this.opts.retryDelayMs }),
          ...(this.opts.onInvoke === undefined ? {} : { onInvoke: this.opts.onInvoke }),
        });
        this.counters.invocations += result.invocations;
        this.counters.delivered += result.delivered;
        this.counters.failed += result.failed;
        shard.checkpoint = batch[batch.length - 1]!.dynamodb.SequenceNumber;
        this.opts.onBatchDone?.(result, shard.shardId);
      }
      if (next === undefined || next === null) {
        // The shard is closed and read to its end: its children may start.
        shard.finished = true;
        this.startReadyShards();
        return;
      }
      iterator = next;
      if (records.length < limit) await this.pause(interval);
    }
  }
}

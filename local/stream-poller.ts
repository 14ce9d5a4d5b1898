/**
 * The event source mapping: what Lambda does for a DynamoDB stream, on this machine.
 *
 * Discovers the stream's shards (and, as shards close, their children), reads each shard
 * from TRIM_HORIZON once its parent is finished, polls it every 250 ms, and hands each
 * batch of records (in Lambda's shape) to {@link deliverBatch}, which honours the handler's
 * partial batch response, bisects on error, retries boundedly and gives up to the
 * on-failure destination. One batch per shard is in flight at a time, so per-item order holds.
 *
 * With `stampReadTime`, each shard is also followed at its tip by a reader that does nothing
 * else, noting when each record first appears there (`stream-creation-times.ts`): records are
 * delivered with that stamp, near their write however far behind the delivery is, and the same
 * on every read.
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
import { StreamCreationTimes } from './stream-creation-times.js';

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
   * Stamp each record's ApproximateCreationDateTime, to the millisecond, with the time it first
   * appeared at the shard's tip, within the minute DynamoDB Local gives it (which truncates it
   * to the minute; see `stream-creation-times.ts`). @default false
   */
  readonly stampReadTime?: boolean;
  /** The clock of the stamps. @default Date.now */
  readonly now?: () => number;
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
  /** The reader noting creation times at the tip (with `stampReadTime`), and the last record it noted. */
  follower?: Promise<void>;
  followedTo?: string;
}

const errorName = (error: unknown) => (typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '');

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private discovery: Promise<void> | undefined;
  private readonly wakers = new Set<() => void>();
  private counters = { records: 0, invocations: 0, delivered: 0, failed: 0 };
  private readonly creationTimes: StreamCreationTimes | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: StreamPollerOptions) {
    this.creationTimes = opts.stampReadTime === true ? new StreamCreationTimes() : undefined;
    this.now = opts.now ?? Date.now;
  }

  /**
   * A record of this stream, read by anyone, as this poller delivers it: with the stamp it was
   * (or is now) given, so a checker reading the stream again sees what the handler saw.
   */
  toLambdaRecord(record: SdkStreamRecord): LambdaStreamRecord {
    return toLambdaRecord(record, this.opts.streamArn, this.creationTimes?.note(record, this.now()));
  }

  /** Records read, invocations made, records delivered and given up on so far. */
  get stats(): Readonly<{ records: number; invocations: number; delivered: number; failed: number; shards: number }> {
    return { ...this.counters, shards: this.shards.size };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.discovery = this.discoverLoop();
  }

  /** Stops polling (a disabled mapping); waits for the batch in flight on each shard to finish. `start()` resumes. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of this.wakers) wake();
    await this.discovery;
    await Promise.all([...this.shards.values()].flatMap((s) => [s.worker, s.follower]));
    // A later start() reads on from each shard's checkpoint, as a re-enabled mapping does.
    for (const s of this.shards.values()) {
      delete s.worker;
      delete s.follower;
    }
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
      // The tip follower need not wait for the parent: it delivers nothing.
      if (this.creationTimes !== undefined && shard.follower === undefined && this.running) shard.follower = this.followTip(shard, this.creationTimes);
      if (shard.worker !== undefined || shard.finished || !this.running) continue;
      const parent = shard.parentShardId === undefined ? undefined : this.shards.get(shard.parentShardId);
      if (parent !== undefined && !parent.finished) continue;
      shard.worker = this.readShard(shard);
    }
  }

  private async iterator(shardId: string, after: string | undefined): Promise<string | undefined> {
    const out = await this.opts.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.opts.streamArn,
        ShardId: shardId,
        ...(after === undefined ? { ShardIteratorType: 'TRIM_HORIZON' } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }),
      }),
    );
    return out.ShardIterator;
  }

  /**
   * Reads the shard to its end and keeps reading what is added, only to note when each record
   * first appears. Its errors are the delivering reader's to report; here they only pause.
   */
  private async followTip(shard: ShardState, times: StreamCreationTimes): Promise<void> {
    const interval = Math.min(this.opts.pollIntervalMs ?? 250, 250);
    let iterator: string | undefined;
    while (this.running) {
      let records: SdkStreamRecord[];
      let next: string | undefined;
      try {
        iterator ??= await this.iterator(shard.shardId, shard.followedTo);
        if (iterator === undefined) return;
        const out = await this.opts.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        records = out.Records ?? [];
        next = out.NextShardIterator;
      } catch (error) {
        const name = errorName(error);
        if (name === 'ResourceNotFoundException') return;
        if (name === 'TrimmedDataAccessException') delete shard.followedTo;
        iterator = undefined;
        if (name !== 'ExpiredIteratorException') await this.pause(1_000);
        continue;
      }
      const seenAt = this.now();
      for (const record of records) times.note(record, seenAt);
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last !== undefined) shard.followedTo = last;
      if (next === undefined || next === null) return; // closed and read to its end
      iterator = next;
      if (records.length < 1000) await this.pause(interval);
    }
  }

  private async readShard(shard: ShardState): Promise<void> {
    const limit = this.opts.batchSize ?? 100;
    const interval = this.opts.pollIntervalMs ?? 250;
    let iterator: string | undefined;
    while (this.running) {
      let records: SdkStreamRecord[];
      let next: string | undefined;
      try {
        iterator ??= await this.iterator(shard.shardId, shard.checkpoint);
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
        const batch = records.map((r) => this.toLambdaRecord(r));
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

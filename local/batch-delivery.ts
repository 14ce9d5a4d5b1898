/**
 * What Lambda's event source mapping does with one batch read from a shard, with
 * `ReportBatchItemFailures`, `BisectBatchOnFunctionError` and a bounded
 * `MaximumRetryAttempts`:
 *
 * - the handler answers `{ batchItemFailures: [] }` (or nothing): the batch is done;
 * - it names records: Lambda checkpoints at the **lowest** sequence number named; records
 *   before it are done, the batch is invoked again from it (a retry);
 * - it throws, times out, or names a record that is not in the batch (or an empty id): a
 *   function error. With bisect on, the batch is split in halves and each half is invoked
 *   in order (a split is not a retry); a single record is retried as it is;
 * - once records have used up their retries they are given up on: written to the on-failure
 *   destination, and the shard moves on.
 *
 * Per-shard order holds: the second half of a split is not invoked before the first half
 * is done or given up on.
 */
import type { LambdaStreamRecord } from './lambda-stream-record.js';

/** What Lambda accepts back from a stream handler. */
export interface BatchResponse {
  batchItemFailures?: { itemIdentifier?: string | null }[] | null;
}

export type StreamHandler = (event: { Records: LambdaStreamRecord[] }) => Promise<BatchResponse | void | undefined | null>;

/** Lambda's on-failure invocation record (DynamoDB), with the records themselves (as an S3 destination gets). */
export interface OnFailureRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: { readonly condition: 'RetryAttemptsExhausted'; readonly approximateInvokeCount: number };
  readonly responseContext: { readonly functionError?: string; readonly batchItemFailure?: string };
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  readonly records: readonly LambdaStreamRecord[];
}

export interface DeliveryOptions {
  readonly handler: StreamHandler;
  /** Retries of a failing record before it is given up on (Lambda's MaximumRetryAttempts). @default 3 */
  readonly maxRetries?: number;
  /** @default true */
  readonly bisectOnError?: boolean;
  /** Treat an invocation that has not settled after this long as a function error. @default 60000 */
  readonly timeoutMs?: number;
  /** Receives each group of records given up on. */
  readonly onFailure: (failure: OnFailureRecord) => void | Promise<void>;
  readonly shardId: string;
  readonly streamArn: string;
  /** Delay before retry `n` (1-based). @default 100·2^(n-1) ms, at most 2 s */
  readonly retryDelayMs?: (retry: number) => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Observes each invocation (for logs and tests). */
  readonly onInvoke?: (records: readonly LambdaStreamRecord[], outcome: InvokeOutcome) => void;
}

export type InvokeOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'partial'; readonly from: number; readonly sequenceNumber: string }
  | { readonly kind: 'error'; readonly error: string };

export interface DeliveryResult {
  readonly invocations: number;
  /** Records the handler finished (acknowledged). */
  readonly delivered: number;
  /** Records given up on (written to the on-failure destination). */
  readonly failed: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const defaultDelay = (retry: number) => Math.min(2_000, 100 * 2 ** (retry - 1));

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Invokes the handler once and classifies its answer the way Lambda does. */
async function invokeOnce(records: LambdaStreamRecord[], opts: DeliveryOptions): Promise<InvokeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  try {
    const response = await Promise.race([
      opts.handler({ Records: records }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Task timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return { kind: 'ok' };
    let lowest: { index: number; seq: bigint } | undefined;
    for (const f of failures) {
      const id = f?.itemIdentifier;
      const index = typeof id === 'string' && id !== '' ? records.findIndex((r) => r.dynamodb.SequenceNumber === id) : -1;
      // An empty, null or unknown identifier fails the whole batch.
      if (index < 0) return { kind: 'error', error: `batchItemFailures names ${JSON.stringify(id ?? null)}, which is not a record of the batch` };
      const seq = BigInt(records[index]!.dynamodb.SequenceNumber);
      if (lowest === undefined || seq < lowest.seq) lowest = { index, seq };
    }
    return { kind: 'partial', from: lowest!.index, sequenceNumber: records[lowest!.index]!.dynamodb.SequenceNumber };
  } catch (error) {
    return { kind: 'error', error: errorText(error) };
  } finally {
    clearTimeout(timer);
  }
}

function isoFromSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** Delivers one batch to the handler until every record is done or given up on. */
export async function deliverBatch(records: readonly LambdaStreamRecord[], opts: DeliveryOptions): Promise<DeliveryResult> {
  const maxRetries = opts.maxRetries ?? 3;
  const bisect = opts.bisectOnError ?? true;
  const wait = opts.sleep ?? defaultSleep;
  const delay = opts.retryDelayMs ?? defaultDelay;
  const result = { invocations: 0, delivered: 0, failed: 0 };

  async function giveUp(group: LambdaStreamRecord[], invokeCount: number, outcome: InvokeOutcome): Promise<void> {
    if (group.length === 0) return;
    result.failed += group.length;
    const first = group[0]!;
    const last = group[group.length - 1]!;
    await opts.onFailure({
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: invokeCount },
      responseContext:
        outcome.kind === 'error' ? { functionError: outcome.error } : outcome.kind === 'partial' ? { batchItemFailure: outcome.sequenceNumber } : {},
      DDBStreamBatchInfo: {
        shardId: opts.shardId,
        startSequenceNumber: first.dynamodb.SequenceNumber,
        endSequenceNumber: last.dynamodb.SequenceNumber,
        approximateArrivalOfFirstRecord: isoFromSeconds(first.dynamodb.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: isoFromSeconds(last.dynamodb.ApproximateCreationDateTime),
        batchSize: group.length,
        streamArn: opts.streamArn,
      },
      records: group,
    });
  }

  /** `retries`: retries already spent on these records. */
  async function deliver(batch: LambdaStreamRecord[], retries: number): Promise<void> {
    for (;;) {
      if (batch.length === 0) return;
      result.invocations++;
      const outcome = await invokeOnce(batch, opts);
      opts.onInvoke?.(batch, outcome);
      if (outcome.kind === 'ok') {
        result.delivered += batch.length;
        return;
      }
      if (outcome.kind === 'partial') {
        // Checkpoint: everything before the reported record is done.
        result.delivered += outcome.from;
        batch = batch.slice(outcome.from);
      } else if (bisect && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await deliver(batch.slice(0, half), retries);
        await deliver(batch.slice(half), retries);
        return;
      }
      if (retries >= maxRetries) {
        await giveUp(batch, retries + 1, outcome);
        return;
      }
      retries++;
      await wait(delay(retries));
    }
  }

  await deliver([...records], 0);
  return result;
}

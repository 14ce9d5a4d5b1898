/**
 * The event source mapping against a fake DynamoDB Streams API (unit level): shard
 * discovery and lineage, TRIM_HORIZON, polling for new records, Lambda's record shape,
 * on-failure and checkpoint behaviour with a handler that fails deliberately.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { StreamPoller } from '../../local/stream-poller.js';
import type { OnFailureRecord, StreamHandler } from '../../local/batch-delivery.js';
import type { LambdaStreamRecord } from '../../local/lambda-stream-record.js';
import { waitFor } from './support.js';

const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/compute-nodes/stream/2026-01-01T00:00:00.000';

interface FakeShard {
  id: string;
  parent?: string;
  records: _Record[];
  closed: boolean;
}

/** An in-memory stream: shards with records; iterators are `shard@index`. */
class FakeStreams {
  readonly shards: FakeShard[] = [];
  readonly iteratorRequests: { shard: string; type: string; seq?: string }[] = [];
  expireNextGetRecords = false;
  /** Sequence numbers some GetRecords call has returned. */
  readonly returned = new Set<string>();
  private seq = 0;

  add(shardId: string, uuid: string, n = 1): void {
    const shard = this.shards.find((s) => s.id === shardId)!;
    for (let i = 0; i < n; i++) {
      this.seq++;
      shard.records.push({
        eventID: `e${this.seq}`,
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-05-04T03:02:00.000Z'),
          Keys: { uuid: { S: uuid } },
          NewImage: { uuid: { S: uuid }, n: { N: String(this.seq) }, blob: { B: new Uint8Array([1, 2, 255]) }, tags: { L: [{ S: 'a' }, { NULL: true }] } },
          SequenceNumber: String(this.seq).padStart(21, '0'),
          SizeBytes: 10,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      });
    }
  }

  readonly client = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof DescribeStreamCommand) {
        return { StreamDescription: { StreamArn: STREAM_ARN, Shards: this.shards.map((s) => ({ ShardId: s.id, ...(s.parent ? { ParentShardId: s.parent } : {}) })) } };
      }
      if (command instanceof GetShardIteratorCommand) {
        const { ShardId, ShardIteratorType, SequenceNumber } = command.input;
        this.iteratorRequests.push({ shard: ShardId!, type: ShardIteratorType!, ...(SequenceNumber ? { seq: SequenceNumber } : {}) });
        const shard = this.shards.find((s) => s.id === ShardId)!;
        const index = ShardIteratorType === 'TRIM_HORIZON' ? 0 : shard.records.findIndex((r) => r.dynamodb!.SequenceNumber === SequenceNumber) + 1;
        return { ShardIterator: `${ShardId}@${index}` };
      }
      if (command instanceof GetRecordsCommand) {
        if (this.expireNextGetRecords) {
          this.expireNextGetRecords = false;
          throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
        }
        const [id, at] = command.input.ShardIterator!.split('@') as [string, string];
        const shard = this.shards.find((s) => s.id === id)!;
        const from = Number(at);
        const records = shard.records.slice(from, from + (command.input.Limit ?? 100));
        for (const r of records) this.returned.add(r.dynamodb!.SequenceNumber!);
        const next = from + records.length;
        const done = shard.closed && next >= shard.records.length;
        return { Records: records, ...(done ? {} : { NextShardIterator: `${id}@${next}` }) };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  };

  get asClient(): DynamoDBStreamsClient {
    return this.client as unknown as DynamoDBStreamsClient;
  }
}

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

function startPoller(streams: FakeStreams, handler: StreamHandler, extra: Partial<ConstructorParameters<typeof StreamPoller>[0]> = {}) {
  const delivered: LambdaStreamRecord[] = [];
  const failures: OnFailureRecord[] = [];
  const poller = new StreamPoller({
    streams: streams.asClient,
    streamArn: STREAM_ARN,
    handler: async (event) => {
      const response = await handler(event);
      // What the handler acknowledged (everything before the first reported failure).
      const failedSeqs = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      const cut = event.Records.findIndex((r) => failedSeqs.includes(r.dynamodb.SequenceNumber));
      delivered.push(...(cut < 0 ? event.Records : event.Records.slice(0, cut)));
      return response;
    },
    onFailure: (f) => void failures.push(f),
    pollIntervalMs: 10,
    discoveryIntervalMs: 20,
    retryDelayMs: () => 1,
    ...extra,
  });
  pollers.push(poller);
  poller.start();
  return { poller, delivered, failures };
}

const ok: StreamHandler = async () => ({ batchItemFailures: [] });
const uuids = (records: readonly LambdaStreamRecord[]) => records.map((r) => r.dynamodb.Keys!.uuid!.S);

describe('StreamPoller', () => {
  it('delivers records in Lambda shape: stream ARN, epoch seconds, region, plain attribute JSON', async () => {
    const streams = new FakeStreams();
    streams.shards.push({ id: 'shard-a', records: [], closed: false });
    streams.add('shard-a', 'n1');
    const { delivered } = startPoller(streams, ok);
    const [record] = await waitFor(() => delivered.length === 1 && delivered, 'one record delivered');
    expect(record!.eventSourceARN).toBe(STREAM_ARN);
    expect(record!.eventSource).toBe('aws:dynamodb');
    expect(record!.awsRegion).toBe('ddblocal');
    expect(record!.dynamodb.ApproximateCreationDateTime).toBe(Date.parse('2026-05-04T03:02:00.000Z') / 1000);
    expect(record!.dynamodb.NewImage).toEqual({ uuid: { S: 'n1' }, n: { N: '1' }, blob: { B: Buffer.from([1, 2, 255]).toString('base64') }, tags: { L: [{ S: 'a' }, { NULL: true }] } });
    // Plain JSON: it survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('reads from TRIM_HORIZON, keeps polling for new records, and reads a closed parent before its child', async () => {
    const streams = new FakeStreams();
    streams.shards.push({ id: 'parent', records: [], closed: false });
    streams.add('parent', 'p', 3);
    const { delivered } = startPoller(streams, ok, { batchSize: 2 });
    await waitFor(() => delivered.length === 3, 'the parent records');
    // The parent closes after two more records; a child shard appears with its own records.
    streams.shards.push({ id: 'child', parent: 'parent', records: [], closed: false });
    streams.add('child', 'c', 2);
    streams.add('parent', 'p', 2);
    streams.shards[0]!.closed = true;
    await waitFor(() => delivered.length === 7, 'the remaining parent records and the child records');
    expect(uuids(delivered)).toEqual(['p', 'p', 'p', 'p', 'p', 'c', 'c']);
    expect(streams.iteratorRequests.filter((r) => r.type === 'TRIM_HORIZON').map((r) => r.shard)).toEqual(['parent', 'child']);
  });

  it('writes records the handler keeps failing to the on-failure destination and moves on', async () => {
    const streams = new FakeStreams();
    streams.shards.push({ id: 'shard-a', records: [], closed: false });
    streams.add('shard-a', 'good', 2);
    streams.add('shard-a', 'bad', 1);
    streams.add('shard-a', 'good', 2);
    const handler: StreamHandler = async (event) => ({
      batchItemFailures: event.Records.filter((r) => r.dynamodb.Keys!.uuid!.S === 'bad').map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })),
    });
    const { poller, delivered, failures } = startPoller(streams, handler, { maxRetries: 2 });
    await waitFor(() => failures.length === 1, 'an on-failure record');
    // Checkpointed at the bad record: the two before it were delivered once, and are not re-delivered.
    expect(failures[0]!.records.map((r) => Number(r.dynamodb.SequenceNumber))).toEqual([3, 4, 5]);
    expect(uuids(delivered)).toEqual(['good', 'good']);
    expect(poller.stats.failed).toBe(3);
    // The shard is not blocked: a new record gets through.
    streams.add('shard-a', 'after', 1);
    await waitFor(() => delivered.some((r) => r.dynamodb.Keys!.uuid!.S === 'after'), 'the record after the failure');
  });

  it('stamps a record with the time it appeared at the stream, however far behind the delivery is, and the same on every read', async () => {
    const streams = new FakeStreams();
    streams.shards.push({ id: 'shard-a', records: [], closed: false });
    streams.add('shard-a', 'first');
    // A fake clock, so that "ten minutes behind" needs no waiting.
    let clock = Date.parse('2026-05-04T03:02:05.000Z');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let invoked = 0;
    const slow: StreamHandler = async () => {
      if (invoked++ === 0) await gate;
      return { batchItemFailures: [] };
    };
    const { poller, delivered } = startPoller(streams, slow, { stampReadTime: true, now: () => clock });
    await waitFor(() => invoked > 0, 'the first invocation');
    // Written while the delivery is stuck on the first batch (DynamoDB Local says 03:02:00, the minute).
    clock = Date.parse('2026-05-04T03:02:20.000Z');
    streams.add('shard-a', 'late', 3);
    await waitFor(() => streams.returned.has('000000000000000000004'), 'the new records to be read at the stream', 5_000);
    // The delivery catches up ten minutes later.
    clock = Date.parse('2026-05-04T03:12:00.000Z');
    release();
    await waitFor(() => delivered.length === 4, 'all four records');
    const times = delivered.map((r) => r.dynamodb.ApproximateCreationDateTime);
    expect(times).toEqual([Date.parse('2026-05-04T03:02:05.000Z') / 1000, ...Array(3).fill(Date.parse('2026-05-04T03:02:20.000Z') / 1000)]);
    // Read again (a checker, a redrive, a restarted reader): the same stamp, not the time of this read.
    clock = Date.parse('2026-05-04T04:00:00.000Z');
    expect(streams.shards[0]!.records.map((r) => poller.toLambdaRecord(r).dynamodb.ApproximateCreationDateTime)).toEqual(times);
  });

  it('never stamps a record outside the minute DynamoDB Local gives it, even when every reader is late', async () => {
    const streams = new FakeStreams();
    streams.shards.push({ id: 'shard-a', records: [], closed: false });
    streams.add('shard-a', 'n', 2); // written in the minute 03:02
    const clock = Date.parse('2026-05-04T03:30:00.000Z');
    const { poller, delivered } = startPoller(streams, ok, { stampReadTime: true, now: () => clock });
    await waitFor(() => delivered.length === 2, 'both records');
    const endOfMinute = (Date.parse('2026-05-04T03:03:00.000Z') - 1) / 1000;
    expect(delivered.map((r) => r.dynamodb.ApproximateCreationDateTime)).toEqual([endOfMinute, endOfMinute]);
    expect(poller.toLambdaRecord(streams.shards[0]!.records[0]!).dynamodb.ApproximateCreationDateTime).toBe(endOfMinute);
  });

  it('re-reads after its checkpoint when an iterator expires, without delivering twice', async () => {
    const streams = new FakeStreams();
    streams.shards.push({ id: 'shard-a', records: [], closed: false });
    streams.add('shard-a', 'x', 2);
    const { delivered } = startPoller(streams, ok);
    await waitFor(() => delivered.length === 2, 'first records');
    streams.expireNextGetRecords = true;
    streams.add('shard-a', 'y', 1);
    await waitFor(() => delivered.length === 3, 'the record after the expiry');
    expect(streams.iteratorRequests.at(-1)).toEqual({ shard: 'shard-a', type: 'AFTER_SEQUENCE_NUMBER', seq: '000000000000000000002' });
    expect(uuids(delivered)).toEqual(['x', 'x', 'y']);
  });
});

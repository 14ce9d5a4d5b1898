/**
 * What the resync tests against DynamoDB Local share: a mocked EventBridge that accepts and
 * keeps every entry put, and a table's stream read whole, as Lambda would deliver its records.
 */
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { toLambdaRecord, type LambdaStreamRecord } from '../../local/lambda-stream-record.js';

/**
 * An EventBridge client whose PutEvents accepts every entry and keeps it in `sent`. `accept` is
 * that behaviour, for a test that gives `mock` another one first; `reset` clears `sent` and
 * restores it.
 */
export function recordingEventBridge() {
  const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
  const mock = mockClient(eventBridge);
  const sent: PutEventsRequestEntry[] = [];
  const accept = (input: { Entries: PutEventsRequestEntry[] }) => {
    sent.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })) };
  };
  const reset = () => {
    mock.reset();
    sent.length = 0;
    mock.on(PutEventsCommand).callsFake(accept);
  };
  reset();
  return { eventBridge, mock, sent, accept, reset };
}

/** Every record of the stream `arn` so far, as Lambda would deliver it. */
export async function streamRecords(streams: DynamoDBStreamsClient, arn: string): Promise<LambdaStreamRecord[]> {
  const records: LambdaStreamRecord[] = [];
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  for (const shard of StreamDescription?.Shards ?? []) {
    let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator !== undefined) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      for (const r of page.Records ?? []) records.push(toLambdaRecord(r, arn));
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

/**
 * The compute node table in DynamoDB Local, created from `functions/compute-node-table-definition.ts` (the
 * same definition the CDK stack deploys), with its stream.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { COMPUTE_NODE_TABLE } from '../functions/compute-node-table-definition.js';

export const DEFAULT_TABLE_NAME = 'compute-nodes';

export interface CreatedTable {
  readonly tableName: string;
  readonly streamArn: string;
  /** Whether DynamoDB Local accepted the TTL setting (it does not expire items either way). */
  readonly timeToLive: boolean;
}

/** Creates the table with its stream and waits until it is ACTIVE. */
export async function createComputeNodeTable(client: DynamoDBClient, tableName: string = DEFAULT_TABLE_NAME): Promise<CreatedTable> {
  const { partitionKey, streamViewType, timeToLiveAttribute } = COMPUTE_NODE_TABLE;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: partitionKey.name, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: partitionKey.name, AttributeType: partitionKey.type }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType },
    }),
  );
  let streamArn: string | undefined;
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    streamArn = Table?.LatestStreamArn;
    if (Table?.TableStatus === 'ACTIVE' && streamArn !== undefined) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (streamArn === undefined) throw new Error(`table ${tableName} has no stream after creation`);
  let timeToLive = false;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: timeToLiveAttribute } }),
    );
    timeToLive = true;
  } catch {
    // Not essential locally: nothing here writes the TTL attribute.
  }
  return { tableName, streamArn, timeToLive };
}

/**
 * The reference indexer's table in DynamoDB Local, created from
 * `functions/indexer/indexer-table.ts` (the same definition the CDK stack deploys).
 */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ALL_INDEXES, NODE_PARTITION_KEY } from '../functions/indexer/indexer-table.js';

export const DEFAULT_INDEXER_TABLE_NAME = 'compute-node-index';

/** Creates the indexer table with its indexes and waits until it is ACTIVE. */
export async function createIndexerTable(client: DynamoDBClient, tableName: string = DEFAULT_INDEXER_TABLE_NAME): Promise<string> {
  const attributes = new Set<string>([NODE_PARTITION_KEY]);
  for (const i of ALL_INDEXES) {
    attributes.add(i.partitionKey);
    attributes.add(i.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: NODE_PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      GlobalSecondaryIndexes: ALL_INDEXES.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' },
          { AttributeName: i.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return tableName;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

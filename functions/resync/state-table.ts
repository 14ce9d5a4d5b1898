/**
 * The resync state table's shape, with no CDK import: the stack creates the AWS table from
 * it and the CLI creates its DynamoDB Local table from it. Per compute node table it holds one
 * lease item (the run that may write markers now, until when) and, for the Lambda variant, the
 * run's last saved state (`run#<table>`, run-state-store.ts).
 */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export const RESYNC_STATE_TABLE = {
  /** `lease#<compute node table name>` or `run#<compute node table name>`. */
  partitionKey: { name: 'pk', type: 'S' },
} as const;

/** Creates the state table if it does not exist (DynamoDB Local; on AWS the stack creates it). */
export async function ensureResyncStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { name, type } = RESYNC_STATE_TABLE.partitionKey;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: name, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: name, AttributeType: type }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`resync state table ${tableName} did not become ACTIVE`);
}

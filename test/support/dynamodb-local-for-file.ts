/**
 * DynamoDB Local shared by the tests of one file: started before the first, stopped after the
 * last, with a DynamoDB client and a DynamoDB Streams client on it. Java must be installed
 * (local/dynamodb-local.ts says how).
 */
import { afterAll, beforeAll } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';

/** The file's DynamoDB Local and its clients; read them in hooks and tests, once it has started. */
export interface DynamoDbLocalForFile {
  readonly ddb: DynamoDbLocal;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
}

/**
 * Registers the file's `beforeAll` that starts DynamoDB Local and its `afterAll` that stops it;
 * call it at the top of the file, before the hooks that use it (they run in order).
 * `dynamodbOptions` (such as `maxAttempts`) go to the DynamoDB client only.
 */
export function dynamoDbLocalForFile(dynamodbOptions: { readonly maxAttempts?: number } = {}): DynamoDbLocalForFile {
  let started: DynamoDbLocalForFile | undefined;
  const get = (): DynamoDbLocalForFile => {
    if (started === undefined) throw new Error('DynamoDB Local is not started yet: read it inside a hook or a test');
    return started;
  };
  beforeAll(async () => {
    const ddb = await startDynamoDbLocal();
    started = { ddb, dynamodb: new DynamoDBClient({ ...ddb.clientConfig, ...dynamodbOptions }), streams: new DynamoDBStreamsClient(ddb.clientConfig) };
  }, 60_000);
  afterAll(async () => {
    started?.dynamodb.destroy();
    started?.streams.destroy();
    await started?.ddb.stop();
  });
  return {
    get ddb() {
      return get().ddb;
    },
    get dynamodb() {
      return get().dynamodb;
    },
    get streams() {
      return get().streams;
    },
  };
}

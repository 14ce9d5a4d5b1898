/**
 * Lambda entry point of the reference indexer: the SQS event source of an indexer route's
 * queue (ReportBatchItemFailures) → conditional writes to the indexer table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { ConfigurationError } from '../notifier/errors.js';
import { createIndexer, INDEXER_ENV } from './indexer.js';

const tableName = process.env[INDEXER_ENV.tableName];
if (tableName === undefined || tableName === '') throw new ConfigurationError(`${INDEXER_ENV.tableName}: must be set (the indexer table)`);
const concurrencyText = process.env[INDEXER_ENV.concurrency];
const concurrency = concurrencyText === undefined || concurrencyText === '' ? 16 : Number(concurrencyText);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
  throw new ConfigurationError(`${INDEXER_ENV.concurrency}: must be a whole number from 1 to 256, got ${concurrencyText}`);
}
const logger = new Logger({ serviceName: 'hypervisor-indexer' });

const indexer = createIndexer({ dynamodb: new DynamoDBClient({}), tableName, logger, concurrency });

export const handler = async (event: Parameters<typeof indexer>[0]) => {
  const { batchItemFailures } = await indexer(event);
  return { batchItemFailures };
};

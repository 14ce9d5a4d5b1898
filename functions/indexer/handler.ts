/**
 * Lambda entry point of the reference indexer: the SQS event source of an indexer route's
 * queue (ReportBatchItemFailures) → conditional writes to the indexer table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { ConfigurationError } from '../notifier/errors.js';
import { setUpTracing } from '../notifier/trace-header.js';
import { createIndexer, DEFAULT_MAX_SWEEP_CONTINUATIONS, INDEXER_ENV, type IndexerContext } from './indexer.js';
import { sweepContinuationBody } from './notification.js';

const tableName = process.env[INDEXER_ENV.tableName];
if (tableName === undefined || tableName === '') throw new ConfigurationError(`${INDEXER_ENV.tableName}: must be set (the indexer table)`);
const concurrencyText = process.env[INDEXER_ENV.concurrency];
const concurrency = concurrencyText === undefined || concurrencyText === '' ? 16 : Number(concurrencyText);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
  throw new ConfigurationError(`${INDEXER_ENV.concurrency}: must be a whole number from 1 to 256, got ${concurrencyText}`);
}
const logger = new Logger({ serviceName: 'hypervisor-indexer' });

const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
// Traced (when the stack's tracing is on), its DynamoDB writes join the trace EventBridge
// carried from the notifier, so one change can be followed from the stream to the index.
await setUpTracing('hypervisor-indexer', undefined, [dynamodb, sqs], { warn: (message) => logger.warn(message) });
// Its own queue, for the continuation of a sweep that pauses before the deadline (run-store.ts).
const queueUrl = process.env[INDEXER_ENV.queueUrl] ?? '';
if (queueUrl === '') {
  logger.warn(`${INDEXER_ENV.queueUrl} is not set: a resync sweep longer than an invocation goes on only by redeliveries of its message, each one of the queue's receives`);
}
const continueSweep = async (runId: string, hop: number) => {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sweepContinuationBody(runId, hop) }));
};
const boundText = process.env[INDEXER_ENV.maxSweepContinuations];
const maxSweepContinuations = boundText === undefined || boundText === '' ? DEFAULT_MAX_SWEEP_CONTINUATIONS : Number(boundText);
if (!Number.isInteger(maxSweepContinuations) || maxSweepContinuations < 1) {
  throw new ConfigurationError(`${INDEXER_ENV.maxSweepContinuations}: must be a whole number from 1, got ${boundText}`);
}
const indexer = createIndexer({ dynamodb, tableName, logger, concurrency, maxSweepContinuations, ...(queueUrl === '' ? {} : { continueSweep }) });

export const handler = async (event: Parameters<typeof indexer>[0], context: IndexerContext) => {
  const { batchItemFailures } = await indexer(event, context);
  return { batchItemFailures };
};

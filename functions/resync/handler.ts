/**
 * Lambda entry point of the resync function (see resync-function.ts): wired to the
 * environment once per cold start; a bad configuration fails start-up naming the variable.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadResyncConfig } from './config.js';
import { createResyncHandler } from './resync-function.js';

const config = loadResyncConfig(process.env);
const logger = new Logger({ serviceName: 'hypervisor-resync' });
logger.info('resync configured', { config });

export const handler = createResyncHandler({
  config,
  // Marker writes ride out throttling with the SDK's backoff; a write that still fails stops the run (resumable).
  dynamodb: new DynamoDBClient({ maxAttempts: 8 }),
  // The control events are retried by putControlEvent itself, within the invocation's remaining time.
  eventBridge: new EventBridgeClient({ maxAttempts: 1 }),
  logger,
});

/**
 * Lambda entry point: the notifier wired to the environment. Everything here runs once per
 * cold start; a bad configuration fails the start-up with a message naming the variable.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { REQUEST_TIMEOUTS } from './client-config.js';
import { loadConfig } from './config.js';
import { METRICS_NAMESPACE } from './metric-names.js';
import { createNotifier } from './notifier.js';

const config = loadConfig(process.env);
const logger = new Logger({ serviceName: 'hypervisor-notifier' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hypervisor-notifier' });
logger.info('notifier configured', { config });

export const handler = createNotifier({
  config,
  // The notifier retries failed entries itself, within the invocation's remaining time; a hung
  // request fails after REQUEST_TIMEOUTS instead of waiting out the invocation.
  eventBridge: new EventBridgeClient({ maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS }),
  sqs: new SQSClient({ requestHandler: REQUEST_TIMEOUTS }),
  logger,
  metrics,
  // Before the first record: DescribeEventBus, as PutEvents to a missing bus answers success.
  checkEventBus: true,
});

/**
 * Lambda entry point of the redrive function: the redrive queue's messages in, discarded
 * batches redriven through the notifier (configured with the notifier function's own
 * environment values) out. Everything here runs once per cold start.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { REQUEST_TIMEOUTS } from '../notifier/client-config.js';
import { S3ClaimCheckStore } from '../notifier/claim-check.js';
import { loadConfig } from '../notifier/config.js';
import { METRICS_NAMESPACE } from '../notifier/metric-names.js';
import { createNotifier } from '../notifier/notifier.js';
import { setUpTracing } from '../notifier/trace-header.js';
import { loadRedriveConfig, REDRIVE_SERVICE_NAME } from './config.js';
import { S3OnFailureStore } from './on-failure-store.js';
import { createRedriveFunction } from './redrive-function.js';
import { createRedriver } from './redriver.js';

const notifierConfig = loadConfig(process.env);
const config = loadRedriveConfig(process.env);
const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: REDRIVE_SERVICE_NAME });
logger.info('redrive configured', { config, notifierConfig });

// As the notifier's entry point configures them (handler.ts).
const eventBridge = new EventBridgeClient({ maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS });
const sqs = new SQSClient({ requestHandler: REQUEST_TIMEOUTS });
const s3 = new S3Client({});
await setUpTracing(REDRIVE_SERVICE_NAME, eventBridge, [sqs, s3], { warn: (message) => logger.warn(message) });

const notifier = createNotifier({
  config: notifierConfig,
  eventBridge,
  sqs,
  // A record whose quarantine message is over 1 MiB is kept in S3 as the stream's notifier keeps it.
  ...(notifierConfig.quarantineBucket === undefined ? {} : { claimCheck: new S3ClaimCheckStore(s3, notifierConfig.quarantineBucket) }),
  logger,
  // The notifier's counters (NotificationsSent, ...) under this function's service name.
  metrics,
  // The redriver checks the bus before every object instead.
  checkEventBus: false,
});

const store = new S3OnFailureStore(s3, config.bucket);
export const handler = createRedriveFunction({
  redrive: createRedriver({ store, handler: notifier, eventBridge, eventBusName: notifierConfig.eventBusName }),
  park: (key, reason) => store.setMark(key, 'parked', reason),
  sqs,
  config,
  logger,
  metrics,
});

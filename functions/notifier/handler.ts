/**
 * Lambda entry point: the notifier wired to the environment. Everything here runs once per
 * cold start; a bad configuration fails the start-up with a message naming the variable.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3ClaimCheckStore } from './claim-check.js';
import { NOTIFIER_CLIENT_CONFIG, REQUEST_TIMEOUTS } from './client-config.js';
import { loadConfig } from './config.js';
import { METRICS_NAMESPACE } from './metric-names.js';
import { createNotifier } from './notifier.js';
import { setUpTracing } from './trace-header.js';

const config = loadConfig(process.env);
// SigV4a, which PutEvents through a global endpoint needs, only when one is configured: the
// signer is loaded at start-up then, and never otherwise (it adds to every cold start).
if (config.globalEndpointId !== undefined) await import('@aws-sdk/signature-v4a');
const logger = new Logger({ serviceName: 'hypervisor-notifier' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hypervisor-notifier' });
logger.info('notifier configured', { config });

// The notifier retries failed entries itself, within the invocation's remaining time; a hung
// request fails after REQUEST_TIMEOUTS instead of waiting out the invocation.
// cacheMiddleware: the SDK resolves the middleware stack once per command class instead of on
// every request (its client config, "0-1 ms per request" saved); every middleware (tracing
// below) is added at start-up, before the first request, as that option requires.
const eventBridge = new EventBridgeClient({ maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS, cacheMiddleware: true });
// One attempt per send: the quarantine retries within the invocation's deadline itself.
const sqs = new SQSClient({ ...NOTIFIER_CLIENT_CONFIG, cacheMiddleware: true });
// For the quarantine's claim check (a message over 1 MiB): one attempt, like the queue's; a
// failure is reported to Lambda, which retries the record.
const s3 = config.quarantineBucket === undefined ? undefined : new S3Client({ ...NOTIFIER_CLIENT_CONFIG, cacheMiddleware: true });
// Opt-in (the construct's `tracing` prop): X-Ray subsegments and PutEvents trace headers.
await setUpTracing('hypervisor-notifier', eventBridge, s3 === undefined ? [sqs] : [sqs, s3], { warn: (message) => logger.warn(message) });

export const handler = createNotifier({
  config,
  eventBridge,
  sqs,
  ...(s3 === undefined || config.quarantineBucket === undefined ? {} : { claimCheck: new S3ClaimCheckStore(s3, config.quarantineBucket) }),
  logger,
  metrics,
  // Before the first record: DescribeEventBus, as PutEvents to a missing bus answers success.
  checkEventBus: true,
});

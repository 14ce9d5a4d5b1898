/**
 * Lambda entry point of the AMQP bridge: the SQS event source of its indexer route's queue
 * (ReportBatchItemFailures) → Nova's oslo messages on the broker. The broker's credentials
 * are read from Secrets Manager on the first invocation (and again after the broker refused
 * them, so a rotated secret is picked up); the connection is kept across invocations.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { ConfigurationError } from '../notifier/errors.js';
import { createBridge } from './bridge.js';
import { BrokerPublisher, displayUrl } from './broker-publisher.js';
import { BrokerCredentials, loadAmqpBridgeConfig, urlWithCredentials } from './config.js';

const cfg = loadAmqpBridgeConfig(process.env);
const logger = new Logger({ serviceName: 'hypervisor-amqp-bridge' });
const secrets = new SecretsManagerClient({});

async function newPublisher() {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: cfg.credentialsSecretArn }));
  let credentials;
  try {
    credentials = BrokerCredentials.parse(JSON.parse(out.SecretString ?? ''));
  } catch {
    throw new ConfigurationError(`secret ${cfg.credentialsSecretArn} (credentials of AMQP broker ${displayUrl(cfg.brokerUrl)}) must be JSON {"username": "...", "password": "..."}`);
  }
  // Within the function's 30 s: a connect (5 s) and a confirm wait (8 s), twice at most.
  const p = new BrokerPublisher({
    url: urlWithCredentials(cfg.brokerUrl, credentials),
    exchange: cfg.exchange,
    durable: cfg.durable,
    quorumQueues: cfg.quorumQueues,
    connectTimeoutMs: 5_000,
    confirmTimeoutMs: 8_000,
  });
  return { publisher: p, bridge: createBridge({ publisher: p, topics: cfg.topics, logger }) };
}

let connected: Promise<{ publisher: BrokerPublisher; bridge: ReturnType<typeof createBridge> }> | undefined;

export const handler = async (event: SQSEvent) => {
  connected ??= newPublisher();
  let current;
  try {
    current = await connected;
  } catch (error) {
    connected = undefined;
    throw error; // the whole batch is retried; the error names the secret
  }
  const { publisher: p, bridge } = current;
  const { batchItemFailures, errors } = await bridge(event);
  if (errors.some((e) => e.kind === 'credentials')) {
    logger.error(`AMQP broker ${p.broker} refused the credentials from secret ${cfg.credentialsSecretArn}; it is read again on the next invocation`);
    await p.close();
    connected = undefined;
  }
  return { batchItemFailures };
};

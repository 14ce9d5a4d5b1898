/**
 * What `redrive` and `quarantine redrive` share: the notifier's configuration from the
 * environment (as the deployed function reads it) with flags overriding it, and the notifier
 * built on the given clients with a logger on stderr and metrics counted in memory, so stdout
 * carries only the command's output.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { ClaimCheckStore } from '../functions/notifier/claim-check.js';
import { ENV, loadConfig, type NotifierConfig } from '../functions/notifier/config.js';
import { createNotifier } from '../functions/notifier/notifier.js';
import { CountingMetrics } from '../local/notifier-metrics.js';
import { envWithFlags } from './command-args.js';

/** parseArgs options for the notifier's settings (each overrides its environment variable). */
export const NOTIFIER_FLAGS = {
  'watched-fields': { type: 'string' },
  'watched-field-resolutions': { type: 'string' },
  'publisher-host': { type: 'string' },
  source: { type: 'string' },
  'bus-name': { type: 'string' },
  'quarantine-queue-url': { type: 'string' },
  'quarantine-bucket': { type: 'string' },
} as const;

export const NOTIFIER_FLAGS_USAGE = `[--bus-name BUS] [--source SOURCE] [--watched-fields a,b] [--watched-field-resolutions f=n,...] [--publisher-host HOST] [--quarantine-queue-url URL] [--quarantine-bucket BUCKET]`;

/** The notifier's configuration: the environment, then the flags. Throws ConfigurationError. */
export function notifierConfigFrom(values: Partial<Record<keyof typeof NOTIFIER_FLAGS, string>>, env: Record<string, string | undefined>): NotifierConfig {
  const overrides: Record<string, string | undefined> = {
    [ENV.watchedFields]: values['watched-fields'],
    [ENV.watchedFieldResolutions]: values['watched-field-resolutions'],
    [ENV.publisherHostFallback]: values['publisher-host'],
    [ENV.eventSource]: values.source,
    [ENV.eventBusName]: values['bus-name'],
    [ENV.quarantineQueueUrl]: values['quarantine-queue-url'],
    [ENV.quarantineBucket]: values['quarantine-bucket'],
  };
  return loadConfig(envWithFlags(env, overrides));
}

/** The notifier handler the stream runs, on the CLI's clients (and the claim-check bucket, for a quarantine message over 1 MiB). */
export function cliNotifier(config: NotifierConfig, eventBridge: EventBridgeClient, sqs: SQSClient, claimCheck?: ClaimCheckStore) {
  // Powertools' Logger writes to stdout; the CLI's logs go to stderr.
  const logger = new Logger({ serviceName: 'hypervisor-notifier-cli', logLevel: 'ERROR' });
  (logger as unknown as { printLog: (level: unknown, log: { getAttributes(): unknown }) => void }).printLog = (_level, log) => {
    process.stderr.write(JSON.stringify(log.getAttributes()) + '\n');
  };
  return createNotifier({ config, eventBridge, sqs, logger, metrics: new CountingMetrics().asMetrics(), checkEventBus: false, ...(claimCheck === undefined ? {} : { claimCheck }) });
}

/** A context with a generous deadline: the CLI has no invocation timeout. */
export const CLI_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };

/**
 * The bridge function's environment, validated at start-up (zod): where the broker is, where
 * its credentials are, and how Nova's deployment declares its notification exchange and queues.
 */
import { z } from 'zod';
import { ConfigurationError } from '../notifier/errors.js';

export const AMQP_BRIDGE_ENV = {
  brokerUrl: 'AMQP_BROKER_URL',
  credentialsSecretArn: 'AMQP_CREDENTIALS_SECRET_ARN',
  exchange: 'AMQP_EXCHANGE',
  topics: 'AMQP_TOPICS',
  durable: 'AMQP_DURABLE',
  quorumQueues: 'AMQP_QUORUM_QUEUES',
} as const;

/** Id of the bridge's indexer route in the stack (construct `RouteAmqpBridge`, alarms `AmqpBridge…`). */
export const AMQP_BRIDGE_ROUTE_ID = 'AmqpBridge';

/** Nova's `control_exchange`. */
export const DEFAULT_EXCHANGE = 'nova';
/** Nova's default `[notifications] versioned_notifications_topics`. */
export const DEFAULT_TOPICS = ['versioned_notifications'] as const;

const bool = z.enum(['true', 'false']).transform((s) => s === 'true');
// AMQP names: RabbitMQ allows up to 255 bytes; oslo's topics are plain words.
const amqpName = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be 1–200 letters, digits, _ . : -');

// A missing variable says so, rather than zod's "expected string, received undefined".
const required = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'must be set' : undefined) };

/** The broker's URL without credentials: `amqps://host:5671` (Amazon MQ) or `amqp://host:5672/vhost`. */
export const BrokerUrl = z
  .string(required)
  .regex(/^amqps?:\/\/[^/@\s]+(\/[^\s]*)?$/, 'must be amqp://host:port[/vhost] or amqps://host:port[/vhost], without credentials');

export const AmqpBridgeConfigSchema = z.object({
  [AMQP_BRIDGE_ENV.brokerUrl]: BrokerUrl,
  [AMQP_BRIDGE_ENV.credentialsSecretArn]: z.string(required).regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager secret ARN'),
  [AMQP_BRIDGE_ENV.exchange]: amqpName.default(DEFAULT_EXCHANGE),
  [AMQP_BRIDGE_ENV.topics]: z
    .string()
    .default(DEFAULT_TOPICS.join(','))
    .transform((s) => s.split(',').map((t) => t.trim()).filter((t) => t !== ''))
    .pipe(z.array(amqpName).min(1, 'must name at least one topic')),
  [AMQP_BRIDGE_ENV.durable]: bool.default(false),
  [AMQP_BRIDGE_ENV.quorumQueues]: bool.default(false),
});

export interface AmqpBridgeConfig {
  readonly brokerUrl: string;
  readonly credentialsSecretArn: string;
  readonly exchange: string;
  readonly topics: readonly string[];
  readonly durable: boolean;
  readonly quorumQueues: boolean;
}

/** Validates the environment; the ConfigurationError names each variable and its rule. */
export function loadAmqpBridgeConfig(env: Record<string, string | undefined>): AmqpBridgeConfig {
  const parsed = AmqpBridgeConfigSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    throw new ConfigurationError(`invalid AMQP bridge environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const c = parsed.data;
  return {
    brokerUrl: c[AMQP_BRIDGE_ENV.brokerUrl],
    credentialsSecretArn: c[AMQP_BRIDGE_ENV.credentialsSecretArn],
    exchange: c[AMQP_BRIDGE_ENV.exchange],
    topics: c[AMQP_BRIDGE_ENV.topics],
    durable: c[AMQP_BRIDGE_ENV.durable],
    quorumQueues: c[AMQP_BRIDGE_ENV.quorumQueues],
  };
}

/** The secret's JSON: Amazon MQ's and RDS's convention. */
export const BrokerCredentials = z.object({ username: z.string().min(1), password: z.string().min(1) });

/** The broker URL with the credentials in it (amqplib reads them from the URL). */
export function urlWithCredentials(brokerUrl: string, credentials: z.infer<typeof BrokerCredentials>): string {
  const u = new URL(brokerUrl);
  u.username = encodeURIComponent(credentials.username);
  u.password = encodeURIComponent(credentials.password);
  return u.toString();
}

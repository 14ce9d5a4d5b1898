/**
 * Publishes oslo notifications to an AMQP 0-9-1 broker (RabbitMQ, Amazon MQ for RabbitMQ)
 * with amqplib: one connection and one confirm channel, kept across invocations and replaced
 * when the broker closes them. On each new channel the exchange and each topic's queue are
 * declared exactly as oslo.messaging's rabbit driver declares them for a notifier
 * (`impl_rabbit.py`, `Connection.notify_send` and `_publish_and_creates_default_queue`):
 *
 * - exchange `<exchange>`, type `topic`, `durable` = oslo's `amqp_durable_queues` (default
 *   False) or `rabbit_quorum_queue`, `auto_delete` False;
 * - queue `<topic>.<priority>` bound with that routing key, same `durable`, `auto_delete` False,
 *   not exclusive, arguments `{}` (or `{"x-queue-type": "quorum"}` with quorum queues),
 *
 * so a broker where Nova or an oslo listener declared them already accepts ours (a different
 * flag would be refused with PRECONDITION_FAILED), and notifications wait in the queue for a
 * consumer that has not started. Messages are persistent (delivery mode 2) and each publish
 * waits for the broker's confirm; a nack, a closed channel or a confirm that does not come
 * in time fails that message.
 */
import * as amqp from 'amqplib';
import type { OsloNotification } from './oslo-message.js';

export interface BrokerOptions {
  /** `amqp://user:pass@host:port/vhost` or `amqps://…`; credentials in the URL. */
  readonly url: string;
  /** Exchange to publish on (Nova's `control_exchange`). */
  readonly exchange: string;
  /** oslo's `amqp_durable_queues` on the broker's other clients. */
  readonly durable: boolean;
  /** oslo's `rabbit_quorum_queue` (quorum queues are durable). */
  readonly quorumQueues: boolean;
  /** TCP + AMQP handshake limit. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** How long a publish may wait for its confirm. @default 10000 */
  readonly confirmTimeoutMs?: number;
  /** Heartbeat (s) asked of the broker. @default 30 */
  readonly heartbeatSeconds?: number;
}

/** A broker problem, its message naming the broker (never the password). */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    message: string,
    /** `unreachable`, `credentials`, `refused` (declare or channel error), `nack`, `timeout`, `closed`. */
    readonly kind: 'unreachable' | 'credentials' | 'refused' | 'nack' | 'timeout' | 'closed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The URL as shown in errors and banners: the password removed. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(an unparsable AMQP URL)';
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Turns amqplib's connect errors into one that names the broker and says what to check. */
function connectError(error: unknown, shown: string, user: string): BrokerError {
  const text = errorText(error);
  if (/ACCESS[-_]REFUSED|403/.test(text)) {
    return new BrokerError(`AMQP broker ${shown} refused the credentials of user '${user}' (${text}); check the user name and password`, 'credentials', { cause: error });
  }
  if (/NOT[-_]ALLOWED|530/.test(text)) {
    return new BrokerError(`AMQP broker ${shown} refused user '${user}' access to the virtual host (${text})`, 'credentials', { cause: error });
  }
  return new BrokerError(`AMQP broker ${shown} is unreachable: ${text}`, 'unreachable', { cause: error });
}

interface Session {
  readonly connection: amqp.ChannelModel;
  readonly channel: amqp.ConfirmChannel;
  closed: boolean;
  closeReason: string | undefined;
}

export class BrokerPublisher {
  /** The broker as named in errors (no password). */
  readonly broker: string;
  private readonly user: string;
  private session: Promise<Session> | undefined;

  constructor(private readonly opts: BrokerOptions) {
    this.broker = displayUrl(opts.url);
    let user = '';
    try {
      user = decodeURIComponent(new URL(opts.url).username) || 'guest';
    } catch {
      // displayUrl already says the URL is unparsable; connect will fail with that.
    }
    this.user = user;
  }

  private async open(topology: readonly { queue: string; routingKey: string }[]): Promise<Session> {
    let connection: amqp.ChannelModel;
    try {
      const url = new URL(this.opts.url);
      if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.opts.heartbeatSeconds ?? 30));
      connection = await amqp.connect(url.toString(), {
        timeout: this.opts.connectTimeoutMs ?? 5_000,
        clientProperties: { connection_name: 'hypervisor-notifications amqp-bridge' },
      });
    } catch (error) {
      throw connectError(error, this.broker, this.user);
    }
    const session: Session = { connection, channel: undefined as unknown as amqp.ConfirmChannel, closed: false, closeReason: undefined };
    const lost = (why: string) => {
      session.closed = true;
      session.closeReason ??= why;
    };
    connection.on('error', (e: unknown) => lost(errorText(e)));
    connection.on('close', () => lost('connection closed'));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (e: unknown) => lost(errorText(e)));
      channel.on('close', () => lost('channel closed'));
      (session as { channel: amqp.ConfirmChannel }).channel = channel;
      const args = this.opts.quorumQueues ? { 'x-queue-type': 'quorum' } : {};
      const durable = this.opts.durable || this.opts.quorumQueues;
      await channel.assertExchange(this.opts.exchange, 'topic', { durable, autoDelete: false, internal: false, arguments: {} });
      for (const t of topology) {
        await channel.assertQueue(t.queue, { durable, autoDelete: false, exclusive: false, arguments: args });
        await channel.bindQueue(t.queue, this.opts.exchange, t.routingKey);
      }
    } catch (error) {
      await connection.close().catch(() => {});
      throw new BrokerError(
        `AMQP broker ${this.broker} refused to declare exchange '${this.opts.exchange}' (topic, durable ${this.opts.durable || this.opts.quorumQueues}) or its queues ${topology.map((t) => `'${t.queue}'`).join(', ')}: ${errorText(error)}` +
          (/PRECONDITION/.test(errorText(error)) ? "; set the bridge's durable / quorum settings to the broker's (oslo's amqp_durable_queues, rabbit_quorum_queue)" : ''),
        'refused',
        { cause: error },
      );
    }
    return session;
  }

  private async current(topology: readonly { queue: string; routingKey: string }[]): Promise<Session> {
    if (this.session !== undefined) {
      const s = await this.session.catch(() => undefined);
      if (s !== undefined && !s.closed) return s;
      if (s !== undefined) await s.connection.close().catch(() => {});
    }
    this.session = this.open(topology);
    try {
      return await this.session;
    } catch (error) {
      this.session = undefined;
      throw error;
    }
  }

  /**
   * Publishes each notification on each of its topics and waits for the confirms. Resolves to
   * one outcome per notification (undefined = every topic confirmed); connection-level failures
   * fail every notification with the same error.
   */
  async publish(notifications: readonly OsloNotification[]): Promise<(BrokerError | undefined)[]> {
    if (notifications.length === 0) return [];
    const topology = new Map<string, { queue: string; routingKey: string }>();
    for (const n of notifications) for (const b of n.bodies) topology.set(b.routingKey, { queue: b.routingKey, routingKey: b.routingKey });
    let session: Session;
    try {
      session = await this.current([...topology.values()]);
    } catch (error) {
      const e = error instanceof BrokerError ? error : new BrokerError(`AMQP broker ${this.broker}: ${errorText(error)}`, 'unreachable', { cause: error });
      return notifications.map(() => e);
    }
    const timeoutMs = this.opts.confirmTimeoutMs ?? 10_000;
    const { channel } = session;
    const confirms = notifications.map((n) =>
      Promise.all(
        n.bodies.map(
          (b) =>
            new Promise<void>((resolve, reject) => {
              const timer = setTimeout(
                () => reject(new BrokerError(`AMQP broker ${this.broker} did not confirm message ${n.messageId} (routing key ${b.routingKey}) within ${timeoutMs} ms`, 'timeout')),
                timeoutMs,
              );
              try {
                channel.publish(
                  this.opts.exchange,
                  b.routingKey,
                  b.body,
                  {
                    persistent: true,
                    contentType: 'application/json',
                    contentEncoding: 'utf-8',
                    messageId: n.messageId,
                    headers: n.headers,
                  },
                  (err: unknown) => {
                    clearTimeout(timer);
                    if (err === null || err === undefined) resolve();
                    else if (session.closed) reject(new BrokerError(`AMQP broker ${this.broker} closed the channel before confirming message ${n.messageId}: ${session.closeReason ?? errorText(err)}`, 'closed', { cause: err }));
                    else reject(new BrokerError(`AMQP broker ${this.broker} refused message ${n.messageId} (nack, routing key ${b.routingKey} on exchange '${this.opts.exchange}')`, 'nack', { cause: err }));
                  },
                );
              } catch (error) {
                clearTimeout(timer);
                reject(new BrokerError(`AMQP broker ${this.broker}: could not publish message ${n.messageId}: ${session.closeReason ?? errorText(error)}`, 'closed', { cause: error }));
              }
            }),
        ),
      ).then(
        () => undefined,
        (e: unknown) => (e instanceof BrokerError ? e : new BrokerError(`AMQP broker ${this.broker}: ${errorText(e)}`, 'closed', { cause: e })),
      ),
    );
    const outcomes = await Promise.all(confirms);
    // A confirm that never came leaves the channel in doubt: start afresh next time.
    if (outcomes.some((o) => o?.kind === 'timeout' || o?.kind === 'closed')) {
      session.closed = true;
      await session.connection.close().catch(() => {});
    }
    return outcomes;
  }

  /** Closes the connection (idempotent). */
  async close(): Promise<void> {
    const s = await this.session?.catch(() => undefined);
    this.session = undefined;
    if (s !== undefined && !s.closed) {
      s.closed = true;
      await s.connection.close().catch(() => {});
    }
  }
}

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
 * consumer that has not started. Messages are persistent (delivery mode 2) and mandatory,
 * and each publish waits for the broker's confirm. RabbitMQ confirms a message no queue took
 * too, sending basic.return before the ack ("Consumer Acknowledgements and Publisher
 * Confirms"): such a message fails as `unroutable`, and the topology is declared again before
 * the next publish. A nack, a closed channel or connection, or a confirm that does not come
 * in time fails the message too; a channel error is told apart from a closed connection (a
 * forced close, AMQP 320), which amqplib reports to the confirms first.
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
    /**
     * `unreachable` (no connection: the broker down, or refusing to open the virtual host),
     * `credentials` (the login refused), `refused` (a declaration), `nack`, `timeout`, `closed` (the
     * connection, e.g. a forced close), `channel` (the broker closed the channel: every message
     * on it fails, the one that caused it among them), `unroutable` (returned: no queue took it).
     */
    readonly kind: 'unreachable' | 'credentials' | 'refused' | 'nack' | 'timeout' | 'closed' | 'channel' | 'unroutable',
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

/**
 * Turns amqplib's connect errors into one that names the broker and says what to check, by
 * the handshake step amqplib reports (never by digits anywhere in the text: an address may
 * hold 403 or 530). A login the broker refuses comes as `Handshake terminated by server: 403
 * (ACCESS-REFUSED) …`: the credentials. A `connection.close` in answer to `connection.open`
 * comes as `Expected ConnectionOpenOk; got <ConnectionClose …>`, without the broker's code or
 * reason: the login passed, and RabbitMQ refuses the virtual host for a user without access
 * to it, a virtual host that does not exist (530 NOT_ALLOWED), one that is down or stopping
 * (541), or a connection limit of the node, the virtual host or the user (530), so this is
 * not called a credentials problem (rabbit_reader.erl, `connection.open`).
 */
function connectError(error: unknown, shown: string, user: string, vhost: string): BrokerError {
  const text = errorText(error);
  if (/^Handshake terminated by server: 403 /.test(text)) {
    return new BrokerError(`AMQP broker ${shown} refused the credentials of user '${user}' (${text}); check the user name and password`, 'credentials', { cause: error });
  }
  if (/^Expected ConnectionOpenOk; got <ConnectionClose/.test(text)) {
    return new BrokerError(
      `AMQP broker ${shown} accepted the login of user '${user}' but refused to open virtual host '${vhost}': the user has no access to it, it does not exist or is stopping, or a connection limit (the node's, the virtual host's, the user's) is reached; the broker's log says which`,
      'unreachable',
      { cause: error },
    );
  }
  if (/^Handshake terminated by server: /.test(text)) {
    return new BrokerError(`AMQP broker ${shown} refused the connection of user '${user}': ${text}`, 'unreachable', { cause: error });
  }
  return new BrokerError(`AMQP broker ${shown} is unreachable: ${text}`, 'unreachable', { cause: error });
}

interface Session {
  readonly connection: amqp.ChannelModel;
  /** Why the connection ended (its `error` or `close` event), undefined while it is open. */
  lost: string | undefined;
  /** The publishing channel, replaced after a channel error. */
  channel: PublishChannel | undefined;
  /** Routing keys whose queue and binding this connection declared (cleared after a return). */
  readonly declared: Set<string>;
}

interface PublishChannel {
  readonly channel: amqp.ConfirmChannel;
  closed: boolean;
  /** The broker's reason for closing the channel (a channel error such as a message over `max_message_size`). */
  error: string | undefined;
  /** basic.return seen and not yet matched with its confirm, by exchange, routing key and message id. */
  readonly returned: Map<string, { count: number; reason: string }>;
}

/** Channels open at once in {@link BrokerPublisher.publishEach} (RabbitMQ allows 2047 per connection by default). */
const CHANNELS_AT_ONCE = 32;

const returnKey = (exchange: string, routingKey: string, messageId: unknown) => `${exchange}\n${routingKey}\n${String(messageId)}`;

export class BrokerPublisher {
  /** The broker as named in errors (no password). */
  readonly broker: string;
  private readonly user: string;
  /** The virtual host as amqplib asks for it (the URL's path, `/` when empty). */
  private readonly vhost: string;
  private session: Promise<Session> | undefined;

  constructor(private readonly opts: BrokerOptions) {
    this.broker = displayUrl(opts.url);
    let user = '';
    let vhost = '/';
    try {
      const u = new URL(opts.url);
      user = decodeURIComponent(u.username) || 'guest';
      vhost = decodeURIComponent(u.pathname.slice(1)) || '/';
    } catch {
      // displayUrl already says the URL is unparsable; connect will fail with that.
    }
    this.user = user;
    this.vhost = vhost;
  }

  private get durable(): boolean {
    return this.opts.durable || this.opts.quorumQueues;
  }

  private async open(): Promise<Session> {
    let connection: amqp.ChannelModel;
    try {
      const url = new URL(this.opts.url);
      if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.opts.heartbeatSeconds ?? 30));
      connection = await amqp.connect(url.toString(), {
        timeout: this.opts.connectTimeoutMs ?? 5_000,
        clientProperties: { connection_name: 'hypervisor-notifications amqp-bridge' },
      });
    } catch (error) {
      throw connectError(error, this.broker, this.user, this.vhost);
    }
    const session: Session = { connection, lost: undefined, channel: undefined, declared: new Set() };
    connection.on('error', (e: unknown) => (session.lost ??= errorText(e)));
    // A forced close (320, e.g. a broker restart) comes as `close` with the reason, no `error`.
    connection.on('close', (e: unknown) => (session.lost ??= e === undefined || e === null ? 'connection closed' : errorText(e)));
    return session;
  }

  private async current(): Promise<Session> {
    if (this.session !== undefined) {
      const s = await this.session.catch(() => undefined);
      if (s !== undefined && s.lost === undefined) return s;
      if (s !== undefined) await s.connection.close().catch(() => {});
    }
    this.session = this.open();
    try {
      return await this.session;
    } catch (error) {
      this.session = undefined;
      throw error;
    }
  }

  /** A confirm channel on the session's connection, its closing reason and its returns recorded. */
  private async newChannel(session: Session): Promise<PublishChannel> {
    const channel = await session.connection.createConfirmChannel();
    const pc: PublishChannel = { channel, closed: false, error: undefined, returned: new Map() };
    channel.on('error', (e: unknown) => (pc.error ??= errorText(e)));
    channel.on('close', () => (pc.closed = true));
    channel.on('return', (m: amqp.Message) => {
      // basic.return's fields: amqplib's Message type leaves out the reply code and text.
      const f = m.fields as amqp.MessageFields & { replyCode?: number; replyText?: string };
      const key = returnKey(f.exchange, f.routingKey, m.properties.messageId);
      const r = pc.returned.get(key) ?? { count: 0, reason: `${f.replyCode ?? ''} ${f.replyText ?? 'returned'}`.trim() };
      r.count++;
      pc.returned.set(key, r);
    });
    return pc;
  }

  /** The session's publishing channel (a new one after a channel error), with the topology declared on it. */
  private async channelFor(session: Session, topology: readonly { queue: string; routingKey: string }[]): Promise<PublishChannel> {
    try {
      if (session.channel === undefined || session.channel.closed) session.channel = await this.newChannel(session);
      const pc = session.channel;
      const missing = topology.filter((t) => !session.declared.has(t.routingKey));
      if (missing.length > 0) {
        const args = this.opts.quorumQueues ? { 'x-queue-type': 'quorum' } : {};
        await pc.channel.assertExchange(this.opts.exchange, 'topic', { durable: this.durable, autoDelete: false, internal: false, arguments: {} });
        for (const t of missing) {
          await pc.channel.assertQueue(t.queue, { durable: this.durable, autoDelete: false, exclusive: false, arguments: args });
          await pc.channel.bindQueue(t.queue, this.opts.exchange, t.routingKey);
          session.declared.add(t.routingKey);
        }
      }
      return pc;
    } catch (error) {
      if (session.lost !== undefined) {
        throw new BrokerError(`AMQP broker ${this.broker} closed the connection while the bridge opened a channel or declared its queues: ${session.lost}`, 'closed', { cause: error });
      }
      session.lost = errorText(error);
      await session.connection.close().catch(() => {});
      throw new BrokerError(
        `AMQP broker ${this.broker} refused to declare exchange '${this.opts.exchange}' (topic, durable ${this.durable}) or its queues ${topology.map((t) => `'${t.queue}'`).join(', ')}: ${errorText(error)}` +
          (/PRECONDITION/.test(errorText(error)) ? "; set the bridge's durable / quorum settings to the broker's (oslo's amqp_durable_queues, rabbit_quorum_queue)" : ''),
        'refused',
        { cause: error },
      );
    }
  }

  /**
   * Why a confirm failed. amqplib fails the confirms of a closing channel before it reports
   * why (and, on a forced close, before the connection's own `close`), so this runs once that
   * has run its course: a closed connection, a channel error, or else a nack.
   */
  private lostConfirm(session: Session, pc: PublishChannel, n: OsloNotification, routingKey: string, err: unknown): BrokerError {
    if (session.lost !== undefined) {
      return new BrokerError(`AMQP broker ${this.broker} closed the connection before confirming message ${n.messageId}: ${session.lost}`, 'closed', { cause: err });
    }
    if (pc.closed) {
      return new BrokerError(`AMQP broker ${this.broker} closed the channel before confirming message ${n.messageId} (routing key ${routingKey}): ${pc.error ?? errorText(err)}`, 'channel', { cause: err });
    }
    return new BrokerError(`AMQP broker ${this.broker} refused message ${n.messageId} (nack, routing key ${routingKey} on exchange '${this.opts.exchange}')`, 'nack', { cause: err });
  }

  private publishOne(session: Session, pc: PublishChannel, n: OsloNotification, b: OsloNotification['bodies'][number]): Promise<BrokerError | undefined> {
    const timeoutMs = this.opts.confirmTimeoutMs ?? 10_000;
    return new Promise<BrokerError | undefined>((resolve) => {
      const timer = setTimeout(
        () => resolve(new BrokerError(`AMQP broker ${this.broker} did not confirm message ${n.messageId} (routing key ${b.routingKey}) within ${timeoutMs} ms`, 'timeout')),
        timeoutMs,
      );
      const lost = (err: unknown) => setImmediate(() => resolve(this.lostConfirm(session, pc, n, b.routingKey, err)));
      try {
        pc.channel.publish(
          this.opts.exchange,
          b.routingKey,
          b.body,
          {
            persistent: true,
            // Unroutable (no queue bound, e.g. deleted) comes back as basic.return before its ack.
            mandatory: true,
            contentType: 'application/json',
            contentEncoding: 'utf-8',
            messageId: n.messageId,
            headers: n.headers,
          },
          (err: unknown) => {
            clearTimeout(timer);
            if (err !== null && err !== undefined) return lost(err);
            const key = returnKey(this.opts.exchange, b.routingKey, n.messageId);
            const r = pc.returned.get(key);
            if (r === undefined) return resolve(undefined);
            if (--r.count === 0) pc.returned.delete(key);
            resolve(
              new BrokerError(
                `AMQP broker ${this.broker} returned message ${n.messageId}: no queue took it (${r.reason}, routing key ${b.routingKey} on exchange '${this.opts.exchange}'); the bridge declares its queue again`,
                'unroutable',
              ),
            );
          },
        );
      } catch (error) {
        clearTimeout(timer);
        lost(error);
      }
    });
  }

  /**
   * Publishes each notification on each of its topics (mandatory, persistent) and waits for
   * the confirms. Resolves to one outcome per notification (undefined = every topic
   * confirmed into a queue); connection-level failures fail every notification alike, and a
   * channel error (kind `channel`) every notification published on that channel.
   */
  async publish(notifications: readonly OsloNotification[]): Promise<(BrokerError | undefined)[]> {
    return this.publishWith(notifications, async (session, shared) => {
      const outcomes: Promise<BrokerError | undefined>[] = notifications.map((n) => this.publishNotification(session, shared, n));
      return Promise.all(outcomes);
    });
  }

  /**
   * Like {@link publish}, but each notification on a channel of its own, all at once (up to
   * {@link CHANNELS_AT_ONCE} channels): a channel error then fails only the notification that
   * caused it, and the wait for the confirms is one confirm timeout per {@link CHANNELS_AT_ONCE} notifications.
   */
  async publishEach(notifications: readonly OsloNotification[]): Promise<(BrokerError | undefined)[]> {
    return this.publishWith(notifications, async (session) => {
      const outcomes: (BrokerError | undefined)[] = [];
      for (let i = 0; i < notifications.length; i += CHANNELS_AT_ONCE) {
        const chunk = notifications.slice(i, i + CHANNELS_AT_ONCE);
        outcomes.push(
          ...(await Promise.all(
            chunk.map(async (n) => {
              let pc: PublishChannel;
              try {
                pc = await this.newChannel(session);
              } catch (error) {
                return new BrokerError(`AMQP broker ${this.broker} did not open a channel for message ${n.messageId}: ${session.lost ?? errorText(error)}`, 'closed', { cause: error });
              }
              try {
                return await this.publishNotification(session, pc, n);
              } finally {
                if (!pc.closed) await pc.channel.close().catch(() => {});
              }
            }),
          )),
        );
      }
      return outcomes;
    });
  }

  private async publishNotification(session: Session, pc: PublishChannel, n: OsloNotification): Promise<BrokerError | undefined> {
    return (await Promise.all(n.bodies.map((b) => this.publishOne(session, pc, n, b)))).find((e) => e !== undefined);
  }

  /** Connects and declares (failing every notification alike if that fails), publishes, then tidies up after what failed. */
  private async publishWith(
    notifications: readonly OsloNotification[],
    publish: (session: Session, shared: PublishChannel) => Promise<(BrokerError | undefined)[]>,
  ): Promise<(BrokerError | undefined)[]> {
    if (notifications.length === 0) return [];
    const topology = new Map<string, { queue: string; routingKey: string }>();
    for (const n of notifications) for (const b of n.bodies) topology.set(b.routingKey, { queue: b.routingKey, routingKey: b.routingKey });
    let session: Session;
    let shared: PublishChannel;
    try {
      session = await this.current();
      shared = await this.channelFor(session, [...topology.values()]);
    } catch (error) {
      const e = error instanceof BrokerError ? error : new BrokerError(`AMQP broker ${this.broker}: ${errorText(error)}`, 'unreachable', { cause: error });
      return notifications.map(() => e);
    }
    const outcomes = await publish(session, shared);
    // A return: the queue went away under this connection. A channel error: perhaps the exchange
    // did (404 on publish), its bindings with it. Either way declare again before the next publish
    // (publishEach's included), as a declaration of what exists is harmless.
    if (outcomes.some((o) => o?.kind === 'unroutable' || o?.kind === 'channel')) session.declared.clear();
    // A confirm that never came leaves the connection in doubt: start afresh next time.
    if (outcomes.some((o) => o?.kind === 'timeout' || o?.kind === 'closed')) {
      session.lost ??= 'a confirm did not come';
      await session.connection.close().catch(() => {});
    }
    return outcomes;
  }

  /** Closes the connection (idempotent). */
  async close(): Promise<void> {
    const s = await this.session?.catch(() => undefined);
    this.session = undefined;
    if (s !== undefined && s.lost === undefined) {
      s.lost = 'closed by the bridge';
      await s.connection.close().catch(() => {});
    }
  }
}

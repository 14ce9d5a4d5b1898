/**
 * What a refused connect is. Only a login the broker refuses (ACCESS_REFUSED, 403) makes the
 * handler say "refused the credentials" and read the secret again. A `connection.open` that
 * RabbitMQ answers with `connection.close` (530 NOT_ALLOWED for a user without access to the
 * virtual host, or a connection limit of the node, the virtual host or the user reached; 541
 * for a virtual host that is down: rabbit_reader.erl) reaches the bridge through amqplib
 * without code or reason, so it is said as what it is: the login passed and the virtual host
 * was refused, for one of those reasons. Digits 530 or 403 in an address decide nothing.
 * A real RabbitMQ where the broker's answer matters.
 */
import { createServer } from 'node:net';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { BrokerPublisher } from '../../functions/amqp-bridge/broker-publisher.js';
import { osloNotification } from '../../functions/amqp-bridge/oslo-message.js';
import { LOOPBACK } from '../../local/free-port.js';
import { BROKER_PASSWORD, BROKER_USER, requireAmqpTools } from './rabbitmq-broker.js';
import { routeMessages, rabbitMqForSuite, SqsQueueStandIn, withBridgeEntryPoint } from './support.js';

const messages = routeMessages(['01_typical_libvirt_qemu.json']);
const notification = () => osloNotification(messages[0]!.body, ['versioned_notifications']);

/** A loopback port nobody listens on whose number holds `digits`. */
async function closedPortWith(digits: string): Promise<number> {
  for (let port = 1024; port < 65536; port++) {
    if (!String(port).includes(digits)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free loopback port holding ${digits}`);
}

describe('a connect that fails is classified by the broker’s answer, not by digits in the text', () => {
  for (const digits of ['530', '403']) {
    it(`nobody listening on a port holding ${digits} is unreachable, not a credentials problem`, async () => {
      const port = await closedPortWith(digits);
      const publisher = new BrokerPublisher({ url: `amqp://u:p@${LOOPBACK}:${port}/`, exchange: 'nova', durable: false, quorumQueues: false, connectTimeoutMs: 2_000 });
      const [outcome] = await publisher.publish([notification()]);
      expect(outcome?.message).toContain(String(port));
      expect(outcome?.kind).toBe('unreachable');
    });
  }
});

const run = requireAmqpTools();

describe.runIf(run)('RabbitMQ refusing a connection (NOT_ALLOWED, 530)', () => {
  const { broker, publishers } = rabbitMqForSuite();
  const publisherTo = (url: string) => {
    const p = new BrokerPublisher({ url, exchange: 'nova', durable: false, quorumQueues: false, connectTimeoutMs: 5_000, confirmTimeoutMs: 5_000 });
    publishers.push(p);
    return p;
  };

  it("the virtual host's connection limit reached is no credentials problem; it is retried like an unreachable broker", async () => {
    await broker.ctl('set_vhost_limits', '-p', '/', '{"max-connections": 0}');
    try {
      const [outcome] = await publisherTo(broker.url).publish([notification()]);
      expect(outcome?.message).toContain(`accepted the login of user '${BROKER_USER}' but refused to open virtual host '/'`);
      expect(outcome?.message).toContain('connection limit');
      expect(outcome?.kind).toBe('unreachable');
    } finally {
      await broker.ctl('clear_vhost_limits', '-p', '/');
    }
    expect(await publisherTo(broker.url).publish([notification()])).toEqual([undefined]);
  });

  it("the user's connection limit reached is no credentials problem either", async () => {
    await broker.ctl('set_user_limits', BROKER_USER, '{"max-connections": 0}');
    try {
      const [outcome] = await publisherTo(broker.url).publish([notification()]);
      expect(outcome?.message).toContain(`accepted the login of user '${BROKER_USER}' but refused to open virtual host '/'`);
      expect(outcome?.kind).toBe('unreachable');
    } finally {
      await broker.ctl('clear_user_limits', BROKER_USER, 'max-connections');
    }
  });

  it('a user without access to the virtual host: the login passed, the virtual host refused (amqplib gives no reason to tell it from a limit)', async () => {
    await broker.ctl('add_user', 'no-vhost', 'no-vhost-secret');
    const url = broker.url.replace(`${BROKER_USER}:${BROKER_PASSWORD}`, 'no-vhost:no-vhost-secret');
    const [outcome] = await publisherTo(url).publish([notification()]);
    expect(outcome?.message).toContain("accepted the login of user 'no-vhost' but refused to open virtual host '/': the user has no access to it");
    expect(outcome?.kind).toBe('unreachable');
  });

  it('a wrong password is still a credentials problem', async () => {
    const [outcome] = await publisherTo(broker.url.replace(BROKER_PASSWORD, 'not-it')).publish([notification()]);
    expect(outcome?.kind).toBe('credentials');
    expect(outcome?.message).toContain(`refused the credentials of user '${BROKER_USER}'`);
  });

  it('the Lambda entry point neither blames the credentials nor reads the secret again while the connection limit is reached', async () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bridge-limit-AbCdEf';
    await withBridgeEntryPoint({ brokerUrl: `amqp://${LOOPBACK}:${broker.port}/`, secretArn, topics: 'limit_check' }, async ({ handle, secrets, logged }) => {
      secrets.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({ SecretString: JSON.stringify({ username: BROKER_USER, password: BROKER_PASSWORD }) });
      const queue = new SqsQueueStandIn(10);
      queue.send(messages[0]!);
      await broker.ctl('set_vhost_limits', '-p', '/', '{"max-connections": 0}');
      try {
        expect(await queue.poll(handle)).toEqual([messages[0]!.id]);
        expect(await queue.poll(handle)).toEqual([messages[0]!.id]);
      } finally {
        await broker.ctl('clear_vhost_limits', '-p', '/');
      }
      expect(logged()).toContain("refused to open virtual host '/'");
      expect(logged()).not.toContain('refused the credentials');
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      expect(await queue.poll(handle)).toEqual([]);
      expect(queue.deleted.map((m) => m.id)).toEqual([messages[0]!.id]);
    });
  }, 60_000);
});

/**
 * A RabbitMQ broker for one test file: Debian's `rabbitmq-server` started as its own process
 * on a free loopback port, with its own node name, Erlang distribution and epmd ports and its
 * own data directory (owned by the `rabbitmq` user, as which the broker runs when the tests
 * run as root). `stop()` stops the broker and its epmd and removes the directory; `pause()`
 * and `resume()` stop and restart the same broker (same port, same data) for outage tests;
 * `ctl()` runs `rabbitmqctl` against it (forced closes, memory alarms, connection states).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { freeLoopbackPort, LOOPBACK } from '../../local/free-port.js';

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
/** Debian's Python, where python3-oslo.messaging installs (a `python3` on PATH may be another). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Why the AMQP tests cannot run here, or undefined when they can. In CI a reason is an error, not a skip. */
export function amqpTestsUnavailable(): string | undefined {
  if (!existsSync(RABBITMQ_SERVER)) return `${RABBITMQ_SERVER} not found (apt-get install rabbitmq-server)`;
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import oslo_messaging'], { stdio: 'ignore' });
  } catch {
    return `${DEBIAN_PYTHON} cannot import oslo_messaging (apt-get install python3-oslo.messaging)`;
  }
  return undefined;
}

/** Skips a suite where the packages are missing, except in CI, where that fails the suite. */
export function requireAmqpTools(): boolean {
  const why = amqpTestsUnavailable();
  if (why === undefined) return true;
  if (process.env.CI === 'true') throw new Error(`AMQP end-to-end tests must run in CI: ${why}`);
  console.warn(`skipping AMQP end-to-end tests: ${why}`);
  return false;
}

export const BROKER_USER = 'bridge';
export const BROKER_PASSWORD = 'bridge-secret';

export interface RabbitMq {
  readonly port: number;
  /** `amqp://bridge:bridge-secret@127.0.0.1:<port>/` */
  readonly url: string;
  /** Stops the broker, keeping its data and port (an outage). */
  pause(): Promise<void>;
  /** Starts it again after `pause()`. */
  resume(): Promise<void>;
  /** Runs `rabbitmqctl <args>` against this broker; resolves to its output. */
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface RabbitMqOptions {
  /** Extra `rabbitmq.conf` lines, e.g. `max_message_size = 65536`. */
  readonly config?: readonly string[];
}

function rabbitmqIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'rabbitmq'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function waitForAmqp(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rabbitmq-server exited with ${child.exitCode}: ${output().slice(-2000)}`);
    try {
      const c = await amqp.connect(url, { timeout: 1_000 });
      await c.close();
      return;
    } catch {
      if (Date.now() > until) throw new Error(`rabbitmq-server did not accept AMQP connections within ${timeoutMs} ms: ${output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMq> {
  const ids = rabbitmqIds();
  const dir = mkdtempSync(join(tmpdir(), 'rabbitmq-test-'));
  const [port, distPort, epmdPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
  for (const sub of ['mnesia', 'log']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'rabbitmq.conf'), [`listeners.tcp.default = ${LOOPBACK}:${port}`, `default_user = ${BROKER_USER}`, `default_pass = ${BROKER_PASSWORD}`, 'log.console = false', ...(options.config ?? []), ''].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  if (ids !== undefined) for (const p of [dir, join(dir, 'mnesia'), join(dir, 'log'), join(dir, 'rabbitmq.conf'), join(dir, 'enabled_plugins')]) chownSync(p, ids.uid, ids.gid);

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    RABBITMQ_NODENAME: `hn-test-${process.pid}-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: LOOPBACK,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: LOOPBACK,
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
  };
  const url = `amqp://${BROKER_USER}:${BROKER_PASSWORD}@${LOOPBACK}:${port}/`;
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    const c = spawn(RABBITMQ_SERVER, [], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(ids ?? {}) });
    child = c;
    c.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    c.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    try {
      await waitForAmqp(url, c, () => output, 150_000);
    } catch (error) {
      await halt();
      throw error;
    }
  };
  const halt = async () => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const killEpmd = () => {
    try {
      execFileSync('epmd', ['-kill'], { env, stdio: 'ignore', ...(ids ?? {}) });
    } catch {
      // not running
    }
  };

  try {
    await start();
  } catch (error) {
    killEpmd();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url,
    pause: halt,
    resume: start,
    ctl: (...args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(RABBITMQCTL, ['-q', ...args], { env, cwd: dir, timeout: 60_000, ...(ids ?? {}) }, (error, stdout, stderr) => {
          if (error) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message} ${stderr}`));
          else resolve(stdout);
        });
      }),
    async stop() {
      await halt();
      killEpmd();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

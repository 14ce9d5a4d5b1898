/**
 * Measurement 5: cold start. The deployed bundle is built as the CDK stack builds it
 * (esbuild: bundled, minified, ESM, platform node, target node22, main fields module/main),
 * with the AWS SDK inside and with `@aws-sdk/*` external (the Lambda runtime's copy). Then a
 * fresh `node` process imports the bundle and handles a first, one-record event; the
 * bundle makes its own clients from the environment, pointed at a loopback HTTP server
 * here that answers PutEvents and SendMessageBatch.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER, GLOBAL_ENDPOINT_ONLY_MODULES, TRACING_ONLY_MODULES } from '../infra/bundling-options.js';
import { median, round } from './harness.js';
import { CREATES_ONLY, streamEvent } from './record-mix.js';

const ROOT = resolve(import.meta.dirname, '..');
export const HANDLER_ENTRY = join(ROOT, 'functions', 'notifier', 'handler.ts');

export interface BundleFigures {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** The largest packages in the bundle, bytes of output each. */
  readonly largestInputs: readonly { readonly name: string; readonly bytes: number }[];
}

export interface ColdStartRun {
  /** Node's own start-up before the driver's first line (performance.now() there). */
  readonly nodeBootMs: number;
  readonly importMs: number;
  readonly firstEventMs: number;
  readonly importPlusFirstEventMs: number;
  /** Spawn to the result line, as seen from outside. */
  readonly processMs: number;
}

export interface ColdStartVariant {
  readonly awsSdk: 'bundled' | 'external';
  /** Bundled with a source map and run with --enable-source-maps (the construct's `sourceMaps: true`). */
  readonly sourceMaps: boolean;
  readonly bundle: BundleFigures;
  readonly runs: number;
  /** Medians. */
  readonly median: ColdStartRun;
}

export interface ColdStartResult {
  readonly node: string;
  readonly esbuildOptions: string;
  readonly variants: readonly ColdStartVariant[];
}

/**
 * The handler bundled as the stack deploys it, written to `outfile` (and `outfile.map` with source maps).
 * `signer`: the SigV4a signer bundled in, as with the construct's `globalEndpoint` (default: left out).
 */
export async function bundleHandler(opts: { externalSdk: boolean; sourceMaps: boolean; outfile: string; signer?: boolean }): Promise<BundleFigures> {
  const result = await build({
    entryPoints: [HANDLER_ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    // As infra/hypervisor-notifier.ts bundles it.
    banner: { js: ESM_REQUIRE_BANNER },
    sourcemap: opts.sourceMaps,
    // As deployed without tracing and without a global endpoint (the default): the tracer and the SigV4a signer are left out.
    external: [...(opts.externalSdk ? ['@aws-sdk/*'] : []), ...TRACING_ONLY_MODULES, ...(opts.signer === true ? [] : GLOBAL_ENDPOINT_ONLY_MODULES)],
    outfile: opts.outfile,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  for (const f of result.outputFiles) writeFileSync(f.path, f.contents);
  const file = result.outputFiles.find((f) => f.path === opts.outfile);
  if (file === undefined) throw new Error('esbuild produced no output');
  return { bytes: file.contents.byteLength, gzipBytes: gzipSync(file.contents).byteLength, largestInputs: largestPackages(result.metafile) };
}

function largestPackages(meta: Metafile): { name: string; bytes: number }[] {
  const output = Object.values(meta.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = m?.[1] ?? '(this repository)';
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([name, bytes]) => ({ name, bytes }));
}

/** A loopback stand-in for EventBridge and SQS (AWS JSON protocols), answering at once. */
export async function startFakeAws(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: string;
      let type: string;
      if (target.endsWith('.PutEvents')) {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: unknown[] };
        body = JSON.stringify({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `loopback-${i}` })) });
        type = 'application/x-amz-json-1.1';
      } else if (target.endsWith('.SendMessageBatch')) {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: { Id: string; MessageBody: string }[] };
        const Successful = input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex') }));
        body = JSON.stringify({ Successful, Failed: [] });
        type = 'application/x-amz-json-1.0';
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'UnknownOperationException' }));
        return;
      }
      res.writeHead(200, { 'content-type': type, 'x-amzn-requestid': 'loopback' }).end(body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// The driver: what the Lambda runtime does at a cold start, minus the runtime API.
const DRIVER = `
import { readFileSync } from 'node:fs';
const event = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const t0 = performance.now();
const mod = await import(process.argv[2]);
const t1 = performance.now();
const response = await mod.handler(event, { getRemainingTimeInMillis: () => 60000 });
const t2 = performance.now();
process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ nodeBootMs: t0, importMs: t1 - t0, firstEventMs: t2 - t1, failures: response.batchItemFailures.length }) + '\\n');
process.exit(0);
`;

/** One cold start: a fresh `node` runs the driver on `dir/bundle`; `extraEnv` adds to the function's environment. */
export function runOnce(dir: string, bundle: string, url: string, sourceMaps: boolean, extraEnv: Record<string, string> = {}): Promise<ColdStartRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCHMARK',
    AWS_SECRET_ACCESS_KEY: 'benchmark-secret',
    AWS_ENDPOINT_URL_EVENTBRIDGE: url,
    AWS_ENDPOINT_URL_SQS: url,
    // As in Lambda: no shared config or credentials files.
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_LAMBDA_FUNCTION_NAME: 'hypervisor-notifier',
    EVENT_BUS_NAME: 'hypervisor-notifications',
    QUARANTINE_QUEUE_URL: `${url}/123456789012/hypervisor-notifier-quarantine`,
    ...extraEnv,
  };
  const started = performance.now();
  return new Promise((ok, fail) => {
    // --no-warnings: Node 20 here; the SDK's "use node >= 22" warning does not exist on the node22 runtime.
    const flags = sourceMaps ? ['--no-warnings', '--enable-source-maps'] : ['--no-warnings'];
    const child = spawn(process.execPath, [...flags, join(dir, 'driver.mjs'), join(dir, bundle), join(dir, 'event.json')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => {
      const processMs = performance.now() - started;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || line === undefined) {
        fail(new Error(`cold-start driver exited ${code}: ${err.slice(0, 2000)}${out.slice(-2000)}`));
        return;
      }
      const r = JSON.parse(line.slice('BENCH_RESULT '.length)) as { nodeBootMs: number; importMs: number; firstEventMs: number; failures: number };
      if (r.failures !== 0) {
        fail(new Error(`cold-start first event reported batch item failures: ${out.slice(-2000)}`));
        return;
      }
      ok({ nodeBootMs: r.nodeBootMs, importMs: r.importMs, firstEventMs: r.firstEventMs, importPlusFirstEventMs: r.importMs + r.firstEventMs, processMs });
    });
  });
}

export function medianRun(runs: readonly ColdStartRun[]): ColdStartRun {
  const m = (k: keyof ColdStartRun) => round(median(runs.map((r) => r[k])), 1);
  return { nodeBootMs: m('nodeBootMs'), importMs: m('importMs'), firstEventMs: m('firstEventMs'), importPlusFirstEventMs: m('importPlusFirstEventMs'), processMs: m('processMs') };
}

/**
 * A directory with the driver and a one-record event; with `nodeModules`, the repository's
 * node_modules linked in (the SDK-external bundle resolves @aws-sdk/* there, as the runtime's
 * copy would be found).
 */
export function coldStartDir(nodeModules: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'notifier-bench-'));
  if (nodeModules) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'driver.mjs'), DRIVER);
  writeFileSync(join(dir, 'event.json'), JSON.stringify(streamEvent(1, CREATES_ONLY)));
  return dir;
}

export async function measureColdStart(opts: { runs: number }): Promise<ColdStartResult> {
  const dir = coldStartDir(true);
  const { server, url } = await startFakeAws();
  try {
    const variants: ColdStartVariant[] = [];
    const setups = [
      { externalSdk: false, sourceMaps: false, name: 'handler.mjs' },
      { externalSdk: false, sourceMaps: true, name: 'handler-source-maps.mjs' },
      { externalSdk: true, sourceMaps: false, name: 'handler-sdk-external.mjs' },
    ];
    for (const { externalSdk, sourceMaps, name } of setups) {
      const figures = await bundleHandler({ externalSdk, sourceMaps, outfile: join(dir, name) });
      await runOnce(dir, name, url, sourceMaps); // warm the file cache
      const runs: ColdStartRun[] = [];
      for (let i = 0; i < opts.runs; i++) runs.push(await runOnce(dir, name, url, sourceMaps));
      variants.push({ awsSdk: externalSdk ? 'external' : 'bundled', sourceMaps, bundle: figures, runs: runs.length, median: medianRun(runs) });
    }
    return {
      node: process.version,
      esbuildOptions: "bundle, minify, format 'esm', platform 'node', target 'node22', mainFields ['module','main'], the stack's banner, tracer left out (tracing off)",
      variants,
    };
  } finally {
    server.close();
    server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
}

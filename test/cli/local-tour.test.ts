/**
 * The local tour, exactly as printed: every command `npm start` suggests (local/try-next.ts)
 * and every `--local` command of the README's code blocks, run through a shell from the
 * project root against a running local pipeline (DynamoDB Local, the notifier, the bus, the
 * quarantine, the reference indexer) that this file starts, with no AWS setting in the
 * environment. Each must exit 0 with no stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { startHeartbeatWriter, type HeartbeatWriter } from '../../local/heartbeat-writer.js';
import { describePipeline, writePipelineInfo } from '../../local/pipeline-info.js';
import { startLocalReferenceIndexer, type LocalReferenceIndexer } from '../../local/reference-indexer-feed.js';
import { PROJECT_ROOT } from '../../local/stack-template.js';
import { TRY_NEXT } from '../../local/try-next.js';
import { waitFor } from '../local/support.js';
import { nodeImage } from '../support/records.js';

let pipeline: LocalPipeline | undefined;
let indexer: LocalReferenceIndexer | undefined;
let heartbeat: HeartbeatWriter | undefined;
let runDir: string;

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'local-tour-'));
  mkdirSync(join(PROJECT_ROOT, '.local'), { recursive: true });
  pipeline = await startLocalPipeline({ runDirectory: runDir, templateCacheFile: join(PROJECT_ROOT, '.local', 'template-cache.json'), logLevel: 'SILENT', pollIntervalMs: 100 });
  indexer = await startLocalReferenceIndexer(pipeline, { intervalMs: 50 });
  // What npm start writes; this process stands in for npm start (its pid is alive).
  writePipelineInfo(runDir, describePipeline(pipeline, indexer.tableName));
  // As npm start does: the reserved heartbeat item, written now and then (smoke checks one arrives).
  heartbeat = startHeartbeatWriter({ client: pipeline.ddb, tableName: pipeline.tableName, intervalMs: 1_000 });

  const p = pipeline;
  const put = (item: Record<string, unknown>) => p.ddb.send(new PutItemCommand({ TableName: p.tableName, Item: item as Record<string, AttributeValue> }));
  for (const n of [9101, 9102, 9103]) await put(nodeImage(n, { vcpus: { N: '32' }, vcpus_used: { N: '4' }, hypervisor_type: { S: 'QEMU' } }));
  // The simulator's kind of bad write (a fraction in vcpus), then its repair: one quarantine message, no drift.
  await put(nodeImage(9104, { vcpus: { N: '8.5' }, hypervisor_type: { S: 'ironic' } }));
  await put(nodeImage(9104, { hypervisor_type: { S: 'ironic' } }));
  const i = indexer;
  await waitFor(async () => ((await i.query({ limit: 10 })).nodes.length === 4 ? true : undefined), 'four nodes in the read model');
  await waitFor(() => (p.stats.quarantined === 1 ? true : undefined), 'the invalid write quarantined');
}, 180_000);

afterAll(async () => {
  heartbeat?.stop();
  await indexer?.stop();
  await pipeline?.stop();
  rmSync(runDir, { recursive: true, force: true });
});

/** The README's `--local` commands in its code blocks (a line each, no placeholders). */
function readmeLocalCommands(): string[] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  // Every fenced block is matched with its language (json, mermaid, ...), so a block of another
  // language never pairs its closing fence with the next block's opening one.
  const blocks = [...readme.matchAll(/^```([\w-]*)\n([\s\S]*?)^```/gm)].filter((m) => ['', 'bash', 'sh', 'shell'].includes(m[1]!)).map((m) => m[2]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^npm run\b/.test(l) && /\s--local\b/.test(l) && !/[<>]/.test(l));
}

/** Runs a command line as a user would paste it: a shell in the project root, no AWS settings. */
function shell(command: string): Promise<{ code: number; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('npm_')) env[k] = v;
  env.LOCAL_RUN_DIR = runDir;
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { cwd: PROJECT_ROOT, env, timeout: 120_000 }, (error, out, err) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out, err });
    });
  });
}

describe('the local tour against a running local pipeline', () => {
  const commands = [...new Set([...TRY_NEXT.map(([c]) => c), ...readmeLocalCommands()])];

  it.each(commands)('%s exits 0, without a stack trace', async (command) => {
    const r = await shell(command);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(r.err).not.toMatch(/NodeVersionSupport/);
    expect({ command, code: r.code, err: r.code === 0 ? '' : r.err }).toEqual({ command, code: 0, err: '' });
  }, 150_000);

  it('what they printed is the local pipeline: the nodes, the quarantined write', async () => {
    const query = await shell('npm run --silent cli -- query --local --hypervisor-type QEMU --min-free-vcpus 4');
    expect((JSON.parse(query.out) as { nodes: { host: string }[] }).nodes.map((n) => n.host).sort()).toEqual(['compute-9101', 'compute-9102', 'compute-9103']);
    const summary = await shell('npm run --silent cli -- quarantine summary --local');
    expect(JSON.parse(summary.out)).toMatchObject({ messages: 1, byField: { vcpus: 1 } });
  }, 60_000);
});

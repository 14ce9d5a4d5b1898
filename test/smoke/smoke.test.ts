/**
 * `npm run smoke` against a local pipeline this file starts (DynamoDB Local, the real
 * notifier, the local bus and SQS stand-ins): every hop passes, a broken hop is named and
 * everything the command made is removed anyway, on failure and on Ctrl-C alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientSettings } from '../../cli/aws-endpoints.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { startHeartbeatWriter, type HeartbeatWriter } from '../../local/heartbeat-writer.js';
import { runSmoke } from '../../smoke/run-smoke.js';
import { smokeCommand } from '../../smoke/smoke-command.js';
import { targetFromFlags } from '../../smoke/stack-outputs.js';

let pipeline: LocalPipeline | undefined;
/** The stand-in for the stack's heartbeat schedule, as `npm start` runs it (every second here). */
let heartbeat: HeartbeatWriter | undefined;
let runDir: string;
const p = () => pipeline!;

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'smoke-'));
  // No template rules: the smoke test makes its own rule, as it does on AWS.
  pipeline = await startLocalPipeline({
    runDirectory: runDir,
    deployment: { rules: [], functionEnvironment: {}, eventSourceMapping: undefined },
    logLevel: 'SILENT',
    pollIntervalMs: 100,
    redrive: false,
  });
  heartbeat = startHeartbeatWriter({ client: pipeline.ddb, tableName: pipeline.tableName, intervalMs: 1_000 });
}, 120_000);

afterAll(async () => {
  heartbeat?.stop();
  await pipeline?.stop();
  rmSync(runDir, { recursive: true, force: true });
});

/** The environment `npm start` gives a user: the local endpoints. */
const localEnv = () => ({
  AWS_ENDPOINT_URL_DYNAMODB: p().dynamodb.endpoint,
  AWS_ENDPOINT_URL_EVENTBRIDGE: p().busEndpoint,
  AWS_ENDPOINT_URL_SQS: p().sqsEndpoint,
});

async function smoke(extra: string[] = [], onStdout?: (text: string) => void, signal?: AbortSignal) {
  let out = '';
  let err = '';
  const status = await smokeCommand(
    ['--table', p().tableName, '--bus', p().busArn, '--stream-arn', p().streamArn, '--quiet', '2', ...extra],
    {
      stdout: (t) => {
        out += t;
        onStdout?.(out);
      },
      stderr: (t) => void (err += t),
      readStdin: async () => '',
    },
    localEnv(),
    signal === undefined ? {} : { signal },
  );
  return { status, out, err };
}

/** Nothing the command made is left: no test node, no rule of its own on the bus, not its queue. */
async function expectNothingLeft(out: string) {
  const items = (await p().ddb.send(new ScanCommand({ TableName: p().tableName, ConsistentRead: true }))).Items ?? [];
  expect(items.filter((i) => i.smoke_test !== undefined)).toEqual([]);
  expect(p().eventBus.apiRuleNames).toEqual([]);
  // The queue it names as removed is gone.
  for (const [, queue] of out.matchAll(/queue (hypervisor-smoke-[0-9a-f]{8})/g)) expect(() => p().sqs.getQueueUrl({ QueueName: queue })).toThrow(/does not exist/);
}

describe('npm run smoke on the local pipeline', () => {
  it('passes every hop, prints the table with latencies, exits 0 and leaves nothing behind', async () => {
    const { status, out } = await smoke();
    expect(out).toMatch(/hop\s+check\s+result\s+write→delivery/);
    for (const hop of ['2', '3', '4a', '4b', '4c', '4d', '4e', '5']) expect(out).toMatch(new RegExp(`^${hop}\\s+.*\\spass\\b`, 'm'));
    expect(out).toMatch(/^4e: written \d{4}-\d\d-\d\dT[\d:.]+Z, handled .*, sequence \d+$/m);
    // The local pipeline has no Lambda: hop 1 checked the stream, not the event source mapping, and says so.
    expect(out).toMatch(/^1\s+.*\sskipped\b/m);
    for (const hop of ['4a', '4b', '4d']) expect(out).toMatch(new RegExp(`^${hop}\\s+.*\\spass\\s+\\d+ ms$`, 'm'));
    expect(out).toContain('event source mapping not checked');
    expect(out).toContain('all hops passed (not checked: hop 1, see above)');
    expect(out).toMatch(/^5: gone: test node [0-9a-f-]{36}, rule hypervisor-smoke-[0-9a-f]{8}, queue hypervisor-smoke-[0-9a-f]{8}$/m);
    expect(status).toBe(0);
    await expectNothingLeft(out);
  });

  it('names the first hop that fails (a rule that matches nothing: no notification arrives), exits 1, and still cleans up', async () => {
    const { status, out } = await smoke(['--source', 'not.the.notifier', '--timeout', '3']);
    expect(status).toBe(1);
    expect(out).toMatch(/FAILED at hop 4a \(compute_node\.create delivered, detail = render\): no compute_node\.create arrived/);
    expect(out).toMatch(/^5\s+.*\spass\b/m);
    await expectNothingLeft(out);
  });

  it('fails hop 1 for a stream that is not the stack\'s, before writing anything', async () => {
    const { status, out } = await smoke(['--stream-arn', 'arn:aws:dynamodb:us-east-1:000000000000:table/other/stream/x']);
    expect(status).toBe(1);
    expect(out).toMatch(/FAILED at hop 1 .*is not the table's current stream/);
    expect(out).toMatch(/^3\s+.*\snot run\b/m);
    expect(out).toMatch(/^5: nothing was created$/m);
    await expectNothingLeft(out);
  });

  it('fails hop 4e when no heartbeat comes through (none written), after the notifications passed; --heartbeat 0 skips it', async () => {
    heartbeat?.stop();
    const { status, out } = await smoke(['--heartbeat', '3']);
    expect(status).toBe(1);
    for (const hop of ['4a', '4b', '4d']) expect(out).toMatch(new RegExp(`^${hop}\\s+.*\\spass\\b`, 'm'));
    expect(out).toMatch(/FAILED at hop 4e \(a heartbeat came through the pipeline\): no hypervisor_notifier\.heartbeat arrived in 3 s/);
    await expectNothingLeft(out);
    const skipped = await smoke(['--heartbeat', '0']);
    expect(skipped.status).toBe(0);
    expect(skipped.out).toContain('all hops passed (not checked: hop 1, hop 4e, see above)');
    heartbeat = startHeartbeatWriter({ client: p().ddb, tableName: p().tableName, intervalMs: 1_000 });
  });

  it('on Ctrl-C after the writes, stops waiting, says so and removes the node, the rule and the queue', async () => {
    const abort = new AbortController();
    const { status, out } = await smoke(['--timeout', '30'], (text) => {
      if (/ 3 +pass/.test(text)) abort.abort();
    }, abort.signal);
    expect(status).toBe(1);
    expect(out).toMatch(/FAILED at hop 4a .*interrupted \(Ctrl-C\)/);
    expect(out).toMatch(/^5\s+.*\spass\b/m);
    await expectNothingLeft(out);
  });

  it('removes the test node whose create was applied though its answer was lost (the SDK retried it into a failed condition)', async () => {
    const env = localEnv();
    const dynamodb = new DynamoDBClient(clientSettings(env.AWS_ENDPOINT_URL_DYNAMODB, {}, undefined));
    // The first conditional PutItem (the create) reaches the table; its answer is lost on the way back.
    let lost = false;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (!lost && context.commandName === PutItemCommand.name && (args.input as { ConditionExpression?: string }).ConditionExpression !== undefined) {
          lost = true;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return out;
      },
      { step: 'deserialize', name: 'loseTheCreateAnswer' },
    );
    const events = new EventBridgeClient(clientSettings(env.AWS_ENDPOINT_URL_EVENTBRIDGE, {}, undefined));
    const sqs = new SQSClient(clientSettings(env.AWS_ENDPOINT_URL_SQS, {}, undefined));
    try {
      const hops = await runSmoke(targetFromFlags({ table: p().tableName, bus: p().busArn, 'stream-arn': p().streamArn }), { dynamodb, events, sqs }, { deliveryTimeoutMs: 3_000, quietMs: 500, heartbeatTimeoutMs: 0 });
      expect(lost).toBe(true);
      expect(hops.find((h) => h.hop === '3')?.status).toBe('FAIL');
      const hop5 = hops.find((h) => h.hop === '5')!;
      expect(hop5.detail).toMatch(/^gone: test node [0-9a-f-]{36}, /);
      expect(hop5.status).toBe('pass');
      await expectNothingLeft('');
    } finally {
      for (const c of [dynamodb, events, sqs]) c.destroy();
    }
  });

  it('as a process, on a hang-up (the terminal or SSH session gone, its output with it) after the writes, removes the node, the rule and the queue before it exits', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'smoke/main.ts', '--table', p().tableName, '--bus', p().busArn, '--stream-arn', p().streamArn, '--timeout', '60', '--heartbeat', '0'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...localEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let made: string[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (made.length === 0 && / 3 +pass/.test(out)) {
        made = [...p().eventBus.apiRuleNames];
        child.kill('SIGHUP');
        // The terminal is gone: what the process writes from now on has no reader.
        child.stdout.destroy();
        child.stderr.destroy();
      }
    });
    const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    expect(made).toHaveLength(1);
    expect(status).not.toBe(0);
    await expectNothingLeft('');
    expect(() => p().sqs.getQueueUrl({ QueueName: made[0]! })).toThrow(/does not exist/);
  }, 90_000);

  it.each([
    ['PutRule', 'events'],
    ['CreateQueue', 'sqs'],
  ] as const)('removes the rule and the queue when every answer to %s was lost though it was applied (the SDK gave up retrying)', async (command, service) => {
    const env = localEnv();
    const dynamodb = new DynamoDBClient(clientSettings(env.AWS_ENDPOINT_URL_DYNAMODB, {}, undefined));
    const events = new EventBridgeClient(clientSettings(env.AWS_ENDPOINT_URL_EVENTBRIDGE, {}, undefined));
    const sqs = new SQSClient(clientSettings(env.AWS_ENDPOINT_URL_SQS, {}, undefined));
    const name = command === 'PutRule' ? PutRuleCommand.name : CreateQueueCommand.name;
    let lost = 0;
    const loseEveryAnswer = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const out = await next(args);
      if (context.commandName !== name) return out;
      lost++;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    // One middleware for both clients, whose stacks differ only in input and output types.
    const where = { step: 'deserialize', name: 'loseEveryAnswer' } as const;
    if (service === 'events') events.middlewareStack.add(loseEveryAnswer as never, where);
    else sqs.middlewareStack.add(loseEveryAnswer as never, where);
    try {
      const hops = await runSmoke(targetFromFlags({ table: p().tableName, bus: p().busArn, 'stream-arn': p().streamArn }), { dynamodb, events, sqs }, { heartbeatTimeoutMs: 0 });
      expect(lost).toBeGreaterThan(1); // the SDK retried, and every answer was lost
      expect(hops.find((h) => h.hop === '4a')?.detail).toMatch(/could not create the temporary rule and queue (hypervisor-smoke-[0-9a-f]{8})/);
      const probeName = /(hypervisor-smoke-[0-9a-f]{8})/.exec(hops.find((h) => h.hop === '4a')!.detail)![1]!;
      expect(p().eventBus.apiRuleNames).toEqual([]);
      expect(() => p().sqs.getQueueUrl({ QueueName: probeName })).toThrow(/does not exist/);
      expect(hops.find((h) => h.hop === '5')?.status).toBe('pass');
    } finally {
      for (const c of [dynamodb, events, sqs]) c.destroy();
    }
  });
});

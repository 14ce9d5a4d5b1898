/**
 * `npm run smoke -- [STACK_NAME]`: checks a deployment end to end (see run-smoke.ts) and prints
 * a table of the hops; exit status 0 only when every hop passed, 1 when one failed, 2 for a
 * usage error. The region and credentials come from the usual AWS configuration (AWS_REGION,
 * AWS_PROFILE, ~/.aws); `--region` overrides. Against the local pipeline, give the table and the
 * bus as flags and the endpoints as AWS_ENDPOINT_URL_DYNAMODB / _EVENTBRIDGE / _SQS.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { clientSettings } from '../cli/aws-endpoints.js';
import type { CliIo } from '../cli/cli-io.js';
import { parseCommandArgs, usageError } from '../cli/command-args.js';
import { errorLine } from '../cli/error-line.js';
import { LOCAL_FLAG_USAGE } from '../cli/local-pipeline.js';
import { runSmoke, type HopResult, type SmokeTarget } from './run-smoke.js';
import { targetFromFlags, targetFromStack } from './stack-outputs.js';

export const DEFAULT_STACK_NAME = 'HypervisorNotifications';

const USAGE = `usage: npm run smoke -- [STACK_NAME] [--region R] [--timeout SECONDS] [--quiet SECONDS] [--heartbeat SECONDS]
       npm run smoke -- --table TABLE --bus BUS [--source S] [--stream-arn A] [--function F] [--watched-fields a,b]
  Checks a deployment end to end: stream and event source mapping, bus, a test node written,
  updated and deleted, its notifications on a temporary rule and queue (compared with render),
  clean-up. STACK_NAME defaults to ${DEFAULT_STACK_NAME}; its outputs name what is checked.
  --timeout: how long to wait for the notifications (default 60); --quiet: how long to keep
  listening after the delete arrived, for a notification of the unwatched change (default 5);
  --heartbeat: how long to wait for a heartbeat to come through (default 90; 0: not checked).
  Without a stack (the local pipeline), give --table and --bus, and the endpoints as
  AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL_SQS; or just
  ${LOCAL_FLAG_USAGE}`;

/** The hops as a table: hop, check, result, write→delivery latency. */
export function formatTable(hops: readonly HopResult[]): string {
  const rows = [['hop', 'check', 'result', 'write→delivery'], ...hops.map((h) => [h.hop, h.name, h.status, h.latencyMs === undefined ? '' : `${h.latencyMs} ms`])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export interface SmokeCommandOptions {
  readonly signal?: AbortSignal;
}

/** Runs the command; returns the exit status. */
export async function smokeCommand(args: string[], io: CliIo, env: Record<string, string | undefined> = process.env, opts: SmokeCommandOptions = {}): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    io,
    USAGE,
    {
      'stack-name': { type: 'string' },
      region: { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'string' },
      heartbeat: { type: 'string' },
      table: { type: 'string' },
      bus: { type: 'string' },
      source: { type: 'string' },
      'stream-arn': { type: 'string' },
      function: { type: 'string' },
      'watched-fields': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const seconds = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback * 1000;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number of seconds, got '${text}'`);
    return n * 1000;
  };
  let timeoutMs: number;
  let quietMs: number;
  let heartbeatTimeoutMs: number;
  try {
    timeoutMs = seconds('timeout', values.timeout, 60);
    quietMs = seconds('quiet', values.quiet, 5);
    // 0 is allowed here: it turns the heartbeat hop off.
    heartbeatTimeoutMs = values.heartbeat === '0' ? 0 : seconds('heartbeat', values.heartbeat, 90);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 2;
  }
  if (positionals.length > 1 || (positionals.length === 1 && values['stack-name'] !== undefined)) return usageError(io, USAGE);

  const region = values.region;
  const settings = (service: string) => clientSettings(env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL, env, region);
  const destroyers: (() => void)[] = [];
  const client = <T extends { destroy(): void }>(c: T): T => {
    destroyers.push(() => c.destroy());
    return c;
  };
  try {
    let target: SmokeTarget;
    try {
      if (values.table !== undefined) target = targetFromFlags({ ...values, table: values.table });
      else {
        const stackName = positionals[0] ?? values['stack-name'] ?? DEFAULT_STACK_NAME;
        io.stdout(`reading the outputs of stack ${stackName} …\n`);
        target = await targetFromStack(client(new CloudFormationClient(settings('CLOUDFORMATION'))), stackName);
      }
    } catch (error) {
      io.stderr(`smoke: ${errorLine(error)}\n`);
      return values.table === undefined ? 1 : 2;
    }
    const ddbSettings = settings('DYNAMODB');
    // Against a local pipeline (a loopback DynamoDB) there is no Lambda unless an endpoint is given.
    const local = ddbSettings.endpoint !== undefined && env.AWS_ENDPOINT_URL_LAMBDA === undefined;
    const clients = {
      dynamodb: client(new DynamoDBClient(ddbSettings)),
      events: client(new EventBridgeClient(settings('EVENTBRIDGE'))),
      sqs: client(new SQSClient(settings('SQS'))),
      ...(local ? {} : { lambda: client(new LambdaClient(settings('LAMBDA'))) }),
    };
    io.stdout(`checking table ${target.tableName}, bus ${target.bus}, source ${target.source} …\n`);
    const hops = await runSmoke(target, clients, {
      deliveryTimeoutMs: timeoutMs,
      quietMs,
      heartbeatTimeoutMs,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      onHop: (h) => io.stdout(`  ${h.hop.padEnd(3)} ${h.status.padEnd(7)} ${h.name}\n`),
    });
    io.stdout('\n' + formatTable(hops) + '\n\n');
    for (const h of hops) if (h.detail !== '') io.stdout(`${h.hop}: ${h.detail}\n`);
    const failed = hops.find((h) => h.status === 'FAIL');
    if (failed !== undefined) {
      io.stdout(`\nFAILED at hop ${failed.hop} (${failed.name}): ${failed.detail}\n`);
      return 1;
    }
    const notRun = hops.find((h) => h.status === 'not run');
    if (notRun !== undefined) {
      io.stdout(`\nFAILED: hop ${notRun.hop} (${notRun.name}) did not run\n`);
      return 1;
    }
    const skipped = hops.filter((h) => h.status === 'skipped').map((h) => h.hop);
    io.stdout(`\nall hops passed${skipped.length === 0 ? '' : ` (not checked: hop ${skipped.join(', hop ')}, see above)`}\n`);
    return 0;
  } finally {
    for (const d of destroyers) d();
  }
}

/**
 * `npm start`: the whole pipeline on this machine, with a simulated fleet writing to it.
 *
 *   npm start -- [--duration SECONDS] [--nodes N] [--seed S] [--run-dir DIR] [--quiet] [--amqp-url URL] [--invocations-per-second N]
 *
 * Prints what runs where, each notification as the bus receives it, and a summary every
 * few seconds; stops everything it started on Ctrl-C, SIGTERM or at the end of --duration,
 * and exits 0.
 */
import './quiet-warnings.js';
import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { FleetSimulator } from './fleet-simulator.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { startHeartbeatWriter } from './heartbeat-writer.js';
import { HEARTBEAT_ITEM_KEY } from '../functions/notifier/contract/index.js';
import { watchLauncher } from './launcher-watch.js';
import { JavaNotFoundError } from './dynamodb-local.js';
import { startLocalPipeline, type LocalPipeline } from './pipeline.js';
import { startLocalReferenceIndexer, type LocalReferenceIndexer } from './reference-indexer-feed.js';
import type { NodeQuery } from '../functions/indexer/query-plan.js';
import { checkDrift, describeDrift, summarizeDrift } from '../functions/indexer/drift.js';
import { METRIC } from '../functions/notifier/metric-names.js';
import type { DeliveredEvent } from './targets.js';
import type { QueueMessage } from './sqs-server.js';
import type { OnFailureRecord } from './batch-delivery.js';
import { displayUrl } from '../functions/amqp-bridge/broker-publisher.js';
import { LOCAL_AMQP_BRIDGE_RULE, startLocalAmqpBridge, templateBridgeTarget, type LocalAmqpBridge } from './amqp-bridge-feed.js';
import { HEARTBEAT_DETAIL_TYPE, RESYNC_RUN_DETAIL_TYPE } from '../functions/notifier/contract/index.js';
import { describePipeline, removePipelineInfo, writePipelineInfo } from './pipeline-info.js';
import { TRY_NEXT } from './try-next.js';

const USAGE = `usage: npm start -- [--duration SECONDS] [--nodes N] [--seed S] [--run-dir DIR] [--quiet] [--amqp-url URL] [--invocations-per-second N]
  --duration  stop after this many seconds (default: run until Ctrl-C)
  --nodes     compute nodes in the simulated fleet (default 20)
  --seed      seed of the fleet's decisions (default 1)
  --run-dir   where the JSONL files go (default .local)
  --quiet     no line per notification, only the summaries
  --amqp-url  also run the AMQP bridge against this broker: amqp://USER:PASS@HOST:PORT/
              (exchange nova, routing key versioned_notifications.info, as Nova publishes)
  --invocations-per-second
              throttle the bus's rule invocations to N a second, as EventBridge's quota does
              (past it deliveries wait, none is dropped: docs/capacity.md)
`;

interface Args {
  duration: number | undefined;
  nodes: number;
  seed: number;
  runDir: string;
  quiet: boolean;
  amqpUrl: string | undefined;
  invocationsPerSecond: number | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      nodes: { type: 'string' },
      seed: { type: 'string' },
      'run-dir': { type: 'string' },
      quiet: { type: 'boolean' },
      'amqp-url': { type: 'string' },
      'invocations-per-second': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const number = (name: string, text: string | undefined, fallback: number | undefined, min: number): number | undefined => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got '${text}'`);
    return n;
  };
  return {
    duration: number('duration', values.duration, undefined, 0),
    nodes: Math.floor(number('nodes', values.nodes, 20, 1)!),
    seed: Math.floor(number('seed', values.seed, 1, 0)!),
    runDir: values['run-dir'] ?? '.local',
    quiet: values.quiet ?? false,
    amqpUrl: amqpUrl(values['amqp-url']),
    invocationsPerSecond: number('invocations-per-second', values['invocations-per-second'], undefined, 1),
  };
}

function amqpUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['amqp:', 'amqps:'].includes(url.protocol) || url.hostname === '') {
    throw new Error(`--amqp-url must be amqp://USER:PASS@HOST:PORT/ (or amqps://), got '${displayUrl(text)}'`);
  }
  return text;
}

const out = (line: string) => process.stdout.write(line + '\n');
const rel = (path: string) => relative(process.cwd(), path) || path;
let startedAt = Date.now();
const clock = () => `+${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s`;

function nodeLabel(detail: Record<string, unknown>): string {
  const payload = detail.payload as { 'nova_object.data'?: { uuid?: unknown } } | undefined;
  const data = payload?.['nova_object.data'];
  // The delete payload has no host: the publisher names it (nova-compute:<host>).
  const host = typeof detail.publisher_id === 'string' ? detail.publisher_id.replace(/^nova-compute:/, '') : '?';
  const uuid = typeof data?.uuid === 'string' ? data.uuid.slice(0, 8) : '?';
  return `${host.padEnd(11)} ${uuid}`;
}

/** The heartbeats the bus received (the writer's, through the real path): the live line shows the last one's lag. */
const heartbeats = new HeartbeatMonitor();
/** How often `npm start` writes a heartbeat (the stack: every minute). */
const HEARTBEAT_INTERVAL_MS = 5_000;

/** Rule name → its targets' names, to show where a notification went. */
let targetsOf: (rule: string) => string[] = () => [];

/** The event's own words: a node's change, a resync run's start or end, a heartbeat. */
function describeEvent(event: DeliveredEvent): string {
  const d = event.detail;
  if (event['detail-type'] === RESYNC_RUN_DETAIL_TYPE) {
    const run = `run ${String(d.run_id ?? '?').slice(0, 8)}`;
    return d.phase === 'end' ? `resync  ${run} ended: ${String(d.refreshed ?? '?')} nodes refreshed` : `resync  ${run} started`;
  }
  if (event['detail-type'] === HEARTBEAT_DETAIL_TYPE) return `heartbeat  lag ${typeof d.lag_ms === 'number' ? `${d.lag_ms} ms (write → notifier)` : 'unknown (no written time)'}`;
  const change = (d.change ?? {}) as { changed_fields?: string[]; cause?: string; origin?: string; resync_run?: string | null };
  const type = event['detail-type'].replace('compute_node.', '');
  // A resync's update is the node's whole state again, not a change: say which run sent it.
  const what =
    change.origin === 'resync'
      ? `resync (run ${String(change.resync_run ?? '?').slice(0, 8)}): full state`
      : type === 'update'
        ? `changed: ${(change.changed_fields ?? []).join(', ')}`
        : `cause: ${change.cause ?? '?'}`;
  return `${type.padEnd(6)}  ${nodeLabel(d)}  ${what}`;
}

function printEvent(event: DeliveredEvent, matched: readonly string[]): void {
  const routes = matched.length > 0 ? `  → ${matched.flatMap(targetsOf).join(', ')}` : '';
  out(`${clock()}  ${describeEvent(event)}${routes}`);
}

function printQuarantined(message: QueueMessage): void {
  let reason = message.body.slice(0, 120);
  let node = '?';
  try {
    const body = JSON.parse(message.body) as { reason?: string; issues?: { field: string; rule: string }[]; error?: string; record?: { dynamodb?: { Keys?: { uuid?: { S?: string } } } } };
    reason = `${body.reason}: ${body.issues?.map((i) => `${i.field} ${i.rule}`).join('; ') ?? body.error ?? ''}`;
    node = body.record?.dynamodb?.Keys?.uuid?.S?.slice(0, 8) ?? '?';
  } catch {
    // shown as text
  }
  out(`${clock()}  QUARANTINED  ${node}  ${reason}`);
}

function printFailure(f: OnFailureRecord): void {
  const b = f.DDBStreamBatchInfo;
  out(`${clock()}  GIVEN UP  ${b.batchSize} record(s) ${b.startSequenceNumber}..${b.endSequenceNumber} after ${f.requestContext.approximateInvokeCount} attempts: ${f.responseContext.functionError ?? f.responseContext.batchItemFailure ?? ''}`);
}

function summary(p: LocalPipeline, label: string): string {
  const s = p.stats;
  const n = s.notifications;
  const lat = s.latency();
  const ms = (v: number | undefined) => (v === undefined ? '–' : `${Math.round(v)} ms`);
  const notified = s.notifiedFraction();
  return (
    `[${label}] writes ${s.writes} · stream records ${s.streamRecords} · notifications: create ${n['compute_node.create']}, ` +
    `update ${n['compute_node.update']}, delete ${n['compute_node.delete']} (${notified === undefined ? '–' : `${(notified * 100).toFixed(1)}%`} of records notified) · suppressed ${p.metrics.total(METRIC.updatesSuppressed)} · ` +
    `quarantined ${s.quarantined} · given up ${s.onFailure}${p.redrive === undefined ? '' : ` (redriven ${p.redrive.stats.redrivenRecords})`} · routed ${s.routed} · latency write→bus p50 ${ms(lat.p50)}, p99 ${ms(lat.p99)} (n=${lat.samples})` +
    ` · ${heartbeats.describe(Date.now())}`
  );
}

/** Why there is a quarantine (and perhaps drift) at all: the simulator's invalid writes are on purpose. */
function badWritesStory(p: LocalPipeline, fleet: FleetSimulator): string {
  const invalid = fleet.stats.byKind.invalid;
  const stillInvalid = invalid - fleet.stats.byKind.repair;
  return (
    `[bad writes] the simulator wrote ${invalid} invalid record(s) on purpose (a fraction in vcpus, about 1 report in 100), to show the quarantine: ` +
    `quarantined ${p.stats.quarantined}, nothing published for them` +
    (stillInvalid > 0 ? `; ${stillInvalid} node(s) still invalid at the stop (the next report repairs one), which drift counts as invalid` : '; each repaired by its next report')
  );
}

/** Rule invocations under --invocations-per-second: how many waited, how long, how many wait now. */
function invocationsSummary(p: LocalPipeline): string {
  const i = p.eventBus.invocations;
  return `[invocations] ${i.invocations} rule invocations, ${i.delayed} delayed (the longest ${(i.maxDelayMs / 1000).toFixed(1)} s) · waiting now ${i.pending}`;
}

/** What the AMQP bridge has put on the broker, and what waits. */
function amqpSummary(b: LocalAmqpBridge): string {
  const n = b.stats.published;
  const total = Object.values(n).reduce((a, c) => a + c, 0);
  const s = b.stats;
  return (
    `[amqp] published to ${b.broker} (exchange ${b.exchange}): ${total} (create ${n['compute_node.create'] ?? 0}, update ${n['compute_node.update'] ?? 0}, delete ${n['compute_node.delete'] ?? 0})` +
    ` · waiting ${s.waiting} · unconfirmed attempts ${s.failedAttempts} · dead-lettered ${s.deadLettered}` +
    (s.lastError === undefined ? '' : ` · last error: ${s.lastError}`)
  );
}

function printTryNext(heading: string): void {
  out(heading);
  const width = Math.max(...TRY_NEXT.map(([c]) => c.length));
  for (const [command, what] of TRY_NEXT) out(`    ${command.padEnd(width)}   # ${what}`);
}

/** What a Searchlight user would ask the indexer: QEMU nodes with room for a 4-vCPU instance. */
const SAMPLE_QUERY: NodeQuery = { hypervisorType: 'QEMU', minFreeVcpus: 4n, limit: 5 };

/** One line (or, at the end, the page) answering the sample query from the reference indexer's table. */
async function showQuery(indexer: LocalReferenceIndexer, full: boolean): Promise<void> {
  if (indexer.target === undefined) return;
  try {
    const answer = await indexer.query(SAMPLE_QUERY);
    const s = indexer.stats;
    const head = `[indexer] applied ${s.applied} (duplicates ${s.duplicate}, stale ${s.stale}) · query: QEMU nodes with ≥ 4 free vCPUs, most free first`;
    const nodes = answer.nodes.map((n) => `${n.host ?? n.uuid.slice(0, 8)} (${n.freeVcpus} vCPUs, ${n.freeRamMb} MB free)`);
    if (!full) out(`${head}: ${nodes.slice(0, 3).join(', ') || 'none yet'}${answer.nextPage ? ', …' : ''}`);
    else {
      out(`${head} (index ${answer.indexName}, ${answer.itemsRead} items read):`);
      for (const line of nodes) out(`    ${line}`);
      if (nodes.length === 0) out('    none');
    }
  } catch (error) {
    process.stderr.write(`reference indexer query: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** `cli drift` on the local tables: how the reference indexer's read model differs from the table (first lines and the summary). */
async function showDrift(p: LocalPipeline, indexer: LocalReferenceIndexer): Promise<void> {
  if (indexer.target === undefined) return;
  try {
    // Within the resolutions the notifier ran with: the read model's promise (docs/field-resolution.md).
    const report = await checkDrift(p.ddb, { tableName: p.tableName, indexerTableName: indexer.tableName, resolutions: p.notifierConfig.fieldResolutions });
    const shown = report.differences.slice(0, 10);
    for (const d of shown) out(`    ${describeDrift(d)}`);
    if (report.differences.length > shown.length) out(`    … ${report.differences.length - shown.length} more`);
    out(`[${summarizeDrift(report)}]`);
  } catch (error) {
    process.stderr.write(`drift check: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    // One line, as the CLI's: what is wrong (without Node's advice on positionals) and where the usage is.
    const why = (error instanceof Error ? error.message : String(error)).split(/\. (To specify|This command)/)[0]!.replace(/\.$/, '');
    process.stderr.write(`npm start: ${why}; npm start -- --help shows the usage\n`);
    return 2;
  }

  let shuttingDown = false;
  let firstSignalAt = 0;
  let pipeline: LocalPipeline | undefined;
  // A signal during start-up: stop as soon as the pipeline exists (start-up cleans up after itself on failure).
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<string>((resolve) => {
    stopRequested = () => resolve('stop');
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        // npm and tsx forward the terminal's Ctrl-C: copies within a second are the same request.
        if (firstSignalAt !== 0) {
          if (Date.now() - firstSignalAt < 1_000) return;
          out('stopping now (second signal)');
          process.exit(0); // the exit hook kills DynamoDB Local
        }
        firstSignalAt = Date.now();
        shuttingDown = true;
        resolve(sig);
      });
    }
  });

  const stopWatching = watchLauncher(() => {
    out('the process that started this one is gone: stopping');
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      shuttingDown = true;
      stopRequested?.();
    }
  });

  out('hypervisor notifications: the whole pipeline on this machine');
  try {
    pipeline = await startLocalPipeline({
      runDirectory: args.runDir,
      ...(args.amqpUrl === undefined ? {} : { extraRules: [LOCAL_AMQP_BRIDGE_RULE] }),
      onProgress: (step) => out(`  … ${step}`),
      onEvent: (event, matched, at) => {
        if (heartbeats.note(event, at)) return;
        if (!args.quiet) printEvent(event, matched);
      },
      onQuarantined: (m) => {
        if (!args.quiet) printQuarantined(m);
      },
      onFailure: printFailure,
      onError: (error, where) => {
        if (!shuttingDown) process.stderr.write(`${where}: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    });
  } catch (error) {
    if (error instanceof JavaNotFoundError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    // Interrupted while starting: start-up has stopped what it had started.
    if (shuttingDown) return 0;
    throw error;
  }

  const p = pipeline;
  if (shuttingDown) {
    await p.stop();
    out('stopped before the fleet started.');
    return 0;
  }
  if (args.invocationsPerSecond !== undefined) p.eventBus.throttleInvocations(args.invocationsPerSecond);
  targetsOf = (rule) => p.deployment.rules.find((r) => r.name === rule)?.targets.map((t) => t.name) ?? [rule];
  const refIndexer = await startLocalReferenceIndexer(p, {
    onError: (error) => {
      if (!shuttingDown) process.stderr.write(`reference indexer: ${error instanceof Error ? error.message : String(error)}\n`);
    },
  });
  const amqpBridge =
    args.amqpUrl === undefined
      ? undefined
      : startLocalAmqpBridge(p, {
          url: args.amqpUrl,
          target: templateBridgeTarget(p.deployment.rules) ?? LOCAL_AMQP_BRIDGE_RULE.targets[0]!.name,
          onError: (error) => {
            if (!shuttingDown) process.stderr.write(`amqp bridge: ${error instanceof Error ? error.message : String(error)}\n`);
          },
        });
  const fleet = new FleetSimulator({
    client: p.ddb,
    tableName: p.tableName,
    nodes: args.nodes,
    seed: args.seed,
    onWrite: (w) => p.stats.noteWrite(w),
    onError: (error) => {
      if (!shuttingDown) process.stderr.write(`fleet: ${error instanceof Error ? error.message : String(error)}\n`);
    },
  });

  // What the CLI's --local reads: gone when this process ends, however it ends.
  const infoPath = writePipelineInfo(p.files.directory, describePipeline(p, refIndexer.target === undefined ? undefined : refIndexer.tableName));
  process.once('exit', () => removePipelineInfo(p.files.directory));

  const rules = p.deployment.rules.map((r) => `${r.name} → ${r.targets.map((t) => t.name).join(', ')}`);
  const cfg = p.notifierConfig;
  const m = p.mapping;
  out('');
  out(`  DynamoDB Local    ${p.dynamodb.endpoint}  (pid ${p.dynamodb.pid}, in memory, -sharedDb)  table ${p.tableName}, stream NEW_AND_OLD_IMAGES`);
  out(`  stream poller     batch ${m.batchSize}, polls each shard every ${m.pollIntervalMs} ms, bisect on error ${m.bisectOnError ? 'on' : 'off'}, ${m.maxRetries} retries, ReportBatchItemFailures`);
  const resolutions = Object.entries(cfg.fieldResolutions).map(([f, r]) => `${f} ${r}`).join(', ');
  out(`  notifier          functions/notifier/notifier.ts  source ${cfg.eventSource}, watched: ${cfg.watchedFields.join(', ')}${resolutions === '' ? '' : ` (at resolution: ${resolutions})`}`);
  out(`  event bus         ${p.busEndpoint}  (EventBridge PutEvents)  ${p.busArn}`);
  if (args.invocationsPerSecond !== undefined) {
    out(`  invocation limit  ${args.invocationsPerSecond} rule invocations a second (EventBridge's quota: past it deliveries wait, none is dropped)`);
  }
  out(`  rules             ${rules.length} from ${p.templateSource}`);
  for (const r of rules) out(`                      ${r}`);
  out(`  quarantine (SQS)  ${p.sqsEndpoint}  ${p.quarantineQueueUrl}`);
  out(
    refIndexer.target === undefined
      ? '  indexer           no ReferenceIndexer route in the template: the reference indexer is off'
      : `  indexer           functions/indexer on table ${refIndexer.tableName} (DynamoDB Local), fed by ${refIndexer.target}`,
  );
  if (amqpBridge !== undefined) {
    out(`  AMQP bridge       functions/amqp-bridge → ${amqpBridge.broker}  exchange ${amqpBridge.exchange} (topic), routing key ${amqpBridge.routingKeys.join(', ')}, oslo messagingv2 envelope, fed by ${amqpBridge.target}`);
  }
  out(`  files             ${rel(p.files.events)} (deliveries), ${rel(p.files.quarantine)}, ${rel(p.files.onFailure)}`);
  if (p.redrive !== undefined) {
    out(`  redrive           given-up batches kept in ${rel(p.redrive.store.location)} (Lambda's S3 format) and redriven automatically; by hand: npm run --silent cli -- redrive --local`);
  }
  out(`  CLI               ${rel(infoPath)} tells the CLI where all this is: add --local to any command, from another terminal`);
  out(`  smoke test        npm run smoke -- --local`);
  out(`  heartbeat         the reserved item ${HEARTBEAT_ITEM_KEY} written every ${HEARTBEAT_INTERVAL_MS / 1000} s; its lag (write → bus) on each summary line`);
  out(`  fleet             ${args.nodes} nodes, seed ${args.seed}; ${args.duration === undefined ? 'until Ctrl-C' : `for ${args.duration} s (Ctrl-C stops sooner)`}`);
  out('');
  printTryNext('try, from another terminal in this directory while this runs:');
  out('');

  startedAt = Date.now();
  fleet.start();
  const heartbeatWriter = startHeartbeatWriter({
    client: p.ddb,
    tableName: p.tableName,
    intervalMs: HEARTBEAT_INTERVAL_MS,
    onError: (error) => {
      if (!shuttingDown) process.stderr.write(`heartbeat: ${error instanceof Error ? error.message : String(error)}\n`);
    },
  });
  const ticker = setInterval(() => {
    out(summary(p, `${Math.round((Date.now() - startedAt) / 1000)}s`));
    if (amqpBridge !== undefined) out(amqpSummary(amqpBridge));
    if (args.invocationsPerSecond !== undefined) out(invocationsSummary(p));
    void showQuery(refIndexer, false);
  }, 5_000);
  const timers: NodeJS.Timeout[] = [ticker];
  if (args.duration !== undefined) timers.push(setTimeout(() => stopRequested?.(), args.duration * 1000));

  await stopSignal;
  shuttingDown = true;
  stopWatching();
  for (const t of timers) clearTimeout(t);
  out('stopping: fleet, stream poller, bus, quarantine, DynamoDB Local …');
  heartbeatWriter.stop();
  await fleet.stop();
  // Let the last writes reach the bus (bounded).
  const drainUntil = Date.now() + 2_000;
  let seen = -1;
  while (Date.now() < drainUntil && seen !== p.poller.stats.records) {
    seen = p.poller.stats.records;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (args.invocationsPerSecond !== undefined) {
    // Throttled deliveries still waiting reach their targets before the bus stops (bounded).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p.eventBus.whenInvocationsDelivered(), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    out(invocationsSummary(p));
  }
  // From here on --local says the pipeline is gone rather than reaching half of it.
  removePipelineInfo(p.files.directory);
  await refIndexer.stop();
  await amqpBridge?.stop();
  await showQuery(refIndexer, true);
  await showDrift(p, refIndexer);
  await p.stop();
  out(summary(p, 'final'));
  out(badWritesStory(p, fleet));
  if (amqpBridge !== undefined) out(amqpSummary(amqpBridge));
  out(`stopped. Files: ${rel(p.files.events)}, ${rel(p.files.quarantine)}, ${rel(p.files.onFailure)}`);
  printTryNext('next: run npm start again and, from another terminal while it runs, try:');
  out(`    head -n 1 ${rel(p.files.events)} | npm run --silent cli -- test-pattern samples/pattern.json -   # works now: does the sample rule match a delivered event?`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // One line for the user; the stack only when asked for (DEBUG=1), as no stack trace reaches a user.
    const detail = error instanceof Error ? (process.env.DEBUG ? (error.stack ?? error.message) : `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`) : String(error);
    process.stderr.write(`npm start failed: ${detail}\n`);
    process.exit(1);
  },
);

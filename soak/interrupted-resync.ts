/**
 * Interrupted resync: the reference indexer loses notifications during a gap (as in "gap and
 * repair"), then one resync run repairs it, stopped again and again part-way through a page
 * and resumed from its checkpoint: stopped as Ctrl-C stops the CLI (after the write in
 * flight), and every third time killed (the CLI's process sent SIGKILL, its last checkpoint on
 * disk). While it is stopped, the fleet goes on: nodes soft-deleted, deleted, undeleted, written
 * invalid, so nodes the run marked before a stop are gone when it resumes. A few of the run's
 * notifications are held back until after everything else (a late delivery): until they
 * arrive the indexer must not sweep, and in particular never sweep a node that is live in the
 * table. At the end `drift` must report nothing. Issue: a run that lost count of the nodes it
 * marked before a stop announced fewer than it notified, and its consumer swept a live node.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { describeDrift, summarizeDrift } from '../functions/indexer/drift.js';
import { ATTR, STATE } from '../functions/indexer/indexer-table.js';
import { REFERENCE_INDEXER_READ_FIELDS } from '../functions/indexer/read-fields.js';
import { SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';
import { resyncCommand } from '../cli/resync.js';
import { FleetSimulator } from '../local/fleet-simulator.js';
import { createIndexerTable } from '../local/indexer-table.js';
import { seededRandom } from '../local/seeded-random.js';
import type { DeliveredEvent } from '../local/targets.js';
import { checkInvariants } from '../test/faults/invariants.js';
import { fleetProblems, observePipeline, scanTable, type FaultPipeline } from '../test/faults/pipeline-support.js';
import { describeKinds, LossyIndexer, waitForQuiet, withoutRunEvents } from './lossy-indexer.js';
import { repeatUntilStopped, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

const WATCHED = [...new Set([...SPEC_WATCHED_FIELDS, ...REFERENCE_INDEXER_READ_FIELDS])];
const NODES = 200;
/** Resync notifications held back until the end (of distinct nodes). */
const HELD_NODES = 3;
/** Slow enough (marker writes a second, small pages) that a run is stopped many times, yet most attempts finish a page or two. */
const RESYNC_RATE = 15;
const PAGE_SIZE = 10;
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Attempt {
  /** Resolves with the exit status (null: killed). */
  readonly done: Promise<number | null>;
  stop(): void;
  readonly how: 'ctrl-c' | 'kill';
}

/** The CLI's resync in this process, stopped as Ctrl-C stops it. */
function runInProcess(args: string[], output: string[]): Attempt {
  const abort = new AbortController();
  const io = { stdout: (t: string) => void output.push(t), stderr: () => {}, readStdin: async () => '' };
  return { done: resyncCommand(args, io, { env: {}, signal: abort.signal }), stop: () => abort.abort(), how: 'ctrl-c' };
}

/** The CLI's resync as its own process, killed with SIGKILL. */
function runAsProcess(args: string[], output: string[]): Attempt {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli', 'main.ts'), 'resync', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' },
  });
  child.stdout.on('data', (chunk: Buffer) => void output.push(chunk.toString('utf8')));
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  return { done, stop: () => void child.kill('SIGKILL'), how: 'kill' };
}

/** The fleet's invalid writes (a fraction in vcpus) put right, as the node's next report would. */
async function repairInvalidItems(f: FaultPipeline): Promise<number> {
  let repaired = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await f.pipeline.ddb.send(new ScanCommand({ TableName: f.pipeline.tableName, ConsistentRead: true, ...(start === undefined ? {} : { ExclusiveStartKey: start }) }));
    for (const item of page.Items ?? []) {
      const vcpus = item.vcpus?.N;
      if (vcpus === undefined || !/^\d+\.5$/.test(vcpus)) continue;
      await f.writer.update(item.uuid!.S!, { vcpus: { N: String(Math.floor(Number(vcpus))) } });
      repaired++;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return repaired;
}

const isRunNotification = (e: DeliveredEvent) => (e.detail as { change?: { origin?: unknown } }).change?.origin === 'resync';
const uuidOf = (e: DeliveredEvent) => String((e.detail as { payload?: { 'nova_object.data'?: { uuid?: unknown } } }).payload?.['nova_object.data']?.uuid);

export const interruptedResync: SoakScenario = {
  name: 'interrupted resync',
  what: 'a resync repairing a gap, stopped mid-page (Ctrl-C, SIGKILL) and resumed again and again while the fleet deletes and soft-deletes nodes; drift must report nothing',
  run: (o) =>
    withPipeline({ batchSize: 100, timeoutMs: 30_000, notifierEnvironment: { WATCHED_FIELDS: WATCHED.join(',') } }, async (f) => {
      const random = seededRandom(o.seed + 21);
      const indexerTable = await createIndexerTable(f.pipeline.ddb, 'interrupted-resync-index');
      const indexer = new LossyIndexer(f, indexerTable, random);
      const sim = new FleetSimulator({ client: f.pipeline.ddb, tableName: f.pipeline.tableName, nodes: NODES, seed: o.seed + 5, reportEveryTicks: 6, invalidWriteRate: 0.02, lifecycleRate: 1 });
      const feeder = repeatUntilStopped(() => indexer.feed(), 250);
      try {
        // The gap: the read model goes wrong (nodes missing, extra, stale), for the run to repair;
        // long enough for deletes whose notifications are lost (nodes for the run to sweep).
        const gapMs = Math.max(10, o.fleetSeconds / 5) * 1000;
        const started = Date.now();
        const deletes = () => sim.stats.byKind.soft_delete + sim.stats.byKind.hard_delete;
        while (Date.now() - started < gapMs || deletes() < 40) await sim.step();
        const gapWrites = sim.stats.writes;
        await waitForQuiet(f);
        await indexer.feed();
        const before = await indexer.readModelDrift();
        o.log(`interrupted resync: ${gapWrites} writes in the gap; before the run: ${summarizeDrift(before)}`);

        // The run: every delivery arrives from here, except the run's notifications of a few nodes.
        indexer.lossy = false;
        // Every notification of a held node is held (a node can have two: a write retried after a kill).
        const held = new Set<string>();
        const passed = new Set<string>();
        indexer.holdBack = (e) => {
          if (!isRunNotification(e)) return false;
          const uuid = uuidOf(e);
          if (held.has(uuid)) return true;
          if (!passed.has(uuid) && held.size < HELD_NODES && random() < 0.05) {
            held.add(uuid);
            return true;
          }
          passed.add(uuid);
          return false;
        };
        const dir = mkdtempSync(join(tmpdir(), 'interrupted-resync-'));
        const checkpoint = join(dir, 'checkpoint.json');
        const args = [
          '--table', f.pipeline.tableName,
          '--bus-name', f.pipeline.busArn,
          '--source', f.pipeline.notifierConfig.eventSource,
          '--dynamodb-endpoint', f.pipeline.dynamodb.endpoint,
          '--eventbridge-endpoint', f.pipeline.busEndpoint,
          '--checkpoint', checkpoint,
          '--segments', '2',
          '--page-size', String(PAGE_SIZE),
          '--rate', String(RESYNC_RATE),
        ];
        const output: string[] = [];
        const stops = { 'ctrl-c': 0, kill: 0 };
        let runWrites = 0;
        for (let attempt = 1; ; attempt++) {
          if (attempt > 100) throw new Error(`the resync did not complete in 100 attempts: ${output.join('').slice(-2000)}`);
          const run = attempt % 3 === 0 ? runAsProcess(args, output) : runInProcess(args, output);
          let exit: number | null | undefined;
          void run.done.then((code) => (exit = code));
          // A process needs a moment to start before it writes anything.
          const stopAt = Date.now() + (run.how === 'kill' ? 2_500 : 0) + 1_000 + random() * 3_000;
          let stopped = false;
          while (exit === undefined) {
            if (!stopped && Date.now() >= stopAt) {
              run.stop();
              stopped = true;
            }
            const before = sim.stats.writes;
            await sim.step();
            runWrites += sim.stats.writes - before;
          }
          if (exit === 0) break;
          if (!stopped) throw new Error(`the resync exited ${String(exit)} without being stopped: ${output.join('').slice(-2000)}`);
          stops[run.how]++;
          // Stopped: the fleet goes on (deletes, soft deletes, invalid writes) before the resume.
          const pauseUntil = Date.now() + 500 + random() * 2_000;
          while (Date.now() < pauseUntil) {
            const before = sim.stats.writes;
            await sim.step();
            runWrites += sim.stats.writes - before;
          }
        }
        const runId = (JSON.parse(readFileSync(checkpoint, 'utf8')) as { runId: string }).runId;
        const afterRun = Date.now();
        while (Date.now() - afterRun < 3_000) await sim.step();
        await sim.stop();
        const repaired = await repairInvalidItems(f);
        await feeder.stop();
        await waitForQuiet(f);

        // Everything has arrived but the held-back notifications: the consumer has seen fewer of the
        // run's nodes than the run notified, so if the run announced no fewer, it is not ready to sweep.
        await indexer.feed();
        const runItem = async () => (await f.pipeline.ddb.send(new GetItemCommand({ TableName: indexerTable, Key: { uuid: { S: `resync_run#${runId}` } }, ConsistentRead: true }))).Item;
        const progressOf = (item: Record<string, AttributeValue> | undefined) => ({
          swept: item?.[ATTR.swept]?.BOOL === true || item?.[ATTR.sweepCursor] !== undefined,
          seen: Number(item?.[ATTR.seenCount]?.N ?? NaN),
          refreshed: Number(item?.[ATTR.refreshed]?.N ?? NaN),
        });
        const early = progressOf(await runItem());
        const sweptLive: string[] = [];
        const table = await scanTable(f.pipeline);
        const isLive = (uuid: string) => table.has(uuid) && (table.get(uuid)!.deleted?.N ?? '0') === '0';
        for (const uuid of held) {
          if (!isLive(uuid)) continue;
          const stored = await f.pipeline.ddb.send(new GetItemCommand({ TableName: indexerTable, Key: { uuid: { S: uuid } }, ConsistentRead: true }));
          if (stored.Item?.[ATTR.state]?.S === STATE.deleted && stored.Item[ATTR.sweptBy]?.S === runId) sweptLive.push(uuid);
        }
        const liveHeld = [...held].filter(isLive).length;
        const sweptEarly = indexer.stats.swept;

        // The rest arrives. A run that announced exactly the nodes it notified sweeps now; one that
        // announced more (a write a kill left uncertain, an item marked as it turned invalid) never
        // sweeps, which is safe, and the next run repairs what it left: run one, the fleet quiet.
        indexer.holdBack = () => false;
        await indexer.feed(true);
        const late = progressOf(await runItem());
        const problems: string[] = [];
        if (late.seen >= late.refreshed && !late.swept) problems.push(`run ${runId} saw all ${late.refreshed} nodes it announced, yet did not sweep`);
        let followUp = 'none needed';
        if (!late.swept) {
          const lines: string[] = [];
          const followUpArgs = args.map((a) => (a === checkpoint ? join(dir, 'follow-up.json') : a));
          const exit = await resyncCommand(followUpArgs, { stdout: (t) => void lines.push(t), stderr: () => {}, readStdin: async () => '' }, { env: {} });
          if (exit !== 0) throw new Error(`the follow-up resync exited ${exit}: ${lines.join('')}`);
          await waitForQuiet(f);
          await indexer.feed(true);
          followUp = lines.join('').trim();
        }
        rmSync(dir, { recursive: true, force: true });

        const observed = await observePipeline('interrupted resync', f, sim.stats.writes + repaired, 600_000);
        const observation = withoutRunEvents(observed);
        const report = checkInvariants(observation, { watchedFields: WATCHED, imageProblems: fleetProblems });
        const drift = await indexer.readModelDrift();
        o.log(summarizeDrift(drift));
        const s = indexer.stats;
        return {
          report: {
            ...report,
            violations: [
              ...report.violations,
              ...(before.differences.length === 0 ? ['the gap left no drift to repair: the scenario shows nothing'] : []),
              ...(stops['ctrl-c'] + stops.kill < 3 ? [`the run was stopped only ${stops['ctrl-c'] + stops.kill} time(s): the scenario shows little (slow the run down)`] : []),
              ...(held.size === 0 ? ['no notification of the run was held back: the scenario shows little'] : []),
              ...(early.swept ? [`run ${runId} swept before the notifications of ${held.size} of its nodes arrived (seen ${early.seen} nodes, ${early.refreshed} announced): it announced fewer nodes than it notified`] : []),
              ...problems,
              ...sweptLive.map((u) => `SWEPT LIVE node ${u}: run ${runId} swept it while its resync notification was still on its way (the run announced fewer nodes than it notified)`),
              ...drift.differences.map((d) => `DRIFT ${describeDrift(d)}`),
            ],
          },
          faults: `resync stopped ${stops['ctrl-c']} times by Ctrl-C and killed ${stops.kill} times; indexer deliveries: ${indexer.dropped} dropped and ${indexer.heldBack} held back in the gap, the run's notifications of ${held.size} nodes (${liveHeld} live at the end) held back to the end; ${runtimeSummary(f)}`,
          notes: [
            `resync: ${output.join('').trim().split('\n').at(-1) ?? ''}`,
            `before the held-back notifications arrived the run had ${early.swept ? '' : 'not '}swept (seen ${early.seen} nodes, ${early.refreshed} announced; ${sweptEarly} node(s) swept, ${sweptLive.length} of them live)`,
            `once they arrived: seen ${late.seen}, ${late.swept ? 'swept' : 'not swept (it announced more than it notified)'}; follow-up run with the fleet quiet: ${followUp}`,
            `indexer applied ${s.applied}, duplicates ${s.duplicate}, stale ${s.stale}, run events ${s.runEvents}, swept ${s.swept}`,
            `${gapWrites} writes in the gap, ${runWrites} while the run went and stopped, ${repaired} invalid items put right at the end (${describeKinds(sim)})`,
            `before the run: ${summarizeDrift(before)}`,
            `after: ${summarizeDrift(drift)}`,
          ],
        };
      } finally {
        await feeder.stop().catch(() => {});
        await sim.stop();
      }
    }),
};

/**
 * Soak: the notifier's event source mapping stopped for a while (a disabled mapping), with the
 * heartbeat written every second (the stack's schedule, faster) and a random workload before,
 * during and after. The "stalled" condition (no heartbeat on the bus for the window, the local
 * stand-in for `heartbeatStalledAfterMinutes`) is detected within the window plus a poll while
 * the mapping is stopped, is not raised before, clears once the mapping resumes, and nothing is
 * lost: the invariants hold for every node record and every heartbeat record comes out as at
 * least one heartbeat event (exactly one after deduplication by `message_id`).
 */
import { HEARTBEAT_DETAIL_TYPE, HEARTBEAT_ITEM_KEY, HeartbeatDetail } from '../functions/notifier/contract/index.js';
import { HeartbeatMonitor } from '../local/heartbeat-monitor.js';
import { startHeartbeatWriter } from '../local/heartbeat-writer.js';
import { seededRandom } from '../local/seeded-random.js';
import { checkInvariants, type ObservedRecord } from '../test/faults/invariants.js';
import { observePipeline, type FaultPipeline } from '../test/faults/pipeline-support.js';
import { randomWorkload } from '../test/faults/support.js';
import { runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

const HEARTBEAT_MS = 1_000;
/** No heartbeat for this long is "stalled" (the alarm's minutes, scaled to seconds). */
const STALLED_AFTER_MS = 5_000;
const POLL_MS = 250;
const STOPPED_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isHeartbeatRecord = (r: ObservedRecord) => (r.dynamodb?.Keys ?? r.dynamodb?.NewImage ?? r.dynamodb?.OldImage)?.uuid?.S === HEARTBEAT_ITEM_KEY;

/** Feeds the monitor every event the bus accepted since the last call, stamped now. */
function watcher(f: FaultPipeline, monitor: HeartbeatMonitor): () => void {
  let cursor = 0;
  return () => {
    const now = Date.now();
    for (; cursor < f.delivered.length; cursor++) monitor.note(f.delivered[cursor]!, now);
  };
}

/** Polls until `condition` or `timeoutMs`; the time it took, or undefined. */
async function timeUntil(condition: () => boolean, timeoutMs: number, tick: () => void): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start <= timeoutMs) {
    tick();
    if (condition()) return Date.now() - start;
    await sleep(POLL_MS);
  }
  return undefined;
}

export const stalledMapping: SoakScenario = {
  name: 'stalled mapping',
  what: `the mapping stopped ${STOPPED_MS / 1000} s under load, heartbeat every ${HEARTBEAT_MS / 1000} s: stalled detected within ${STALLED_AFTER_MS / 1000} s, cleared on resume, nothing lost`,
  run: (o) =>
    withPipeline({ batchSize: 100 }, async (f) => {
      const random = seededRandom(o.seed);
      const monitor = new HeartbeatMonitor();
      const tick = watcher(f, monitor);
      const problems: string[] = [];
      const writer = startHeartbeatWriter({ client: f.pipeline.ddb, tableName: f.pipeline.tableName, intervalMs: HEARTBEAT_MS, onError: (e) => problems.push(`heartbeat write failed: ${String(e)}`) });
      const stalledNow = () => monitor.stalled(Date.now(), STALLED_AFTER_MS);
      let writes = 0;
      try {
        // 1. Running: heartbeats arrive, no stall.
        writes += await randomWorkload(f.writer, { nodes: 20, writes: 300, random, concurrency: 4 });
        const firstBeat = await timeUntil(() => monitor.count > 0, 30_000, tick);
        if (firstBeat === undefined) problems.push('no heartbeat reached the bus while the mapping ran');
        await sleep(STALLED_AFTER_MS);
        tick();
        if (stalledNow()) problems.push('stalled while the mapping ran');

        // 2. The mapping stopped: the stall is detected within the window, while writes go on.
        await f.pipeline.poller.stop();
        o.log('stalled mapping: mapping stopped');
        const stoppedAt = Date.now();
        const load = randomWorkload(f.writer, { nodes: 20, firstNode: 21, writes: 300, random, concurrency: 2 });
        const detectedAfter = await timeUntil(stalledNow, STOPPED_MS, tick);
        if (detectedAfter === undefined) problems.push(`the stall was not detected in ${STOPPED_MS / 1000} s of a stopped mapping`);
        else if (detectedAfter > STALLED_AFTER_MS + 2 * POLL_MS + HEARTBEAT_MS) problems.push(`the stall was detected only after ${detectedAfter} ms`);
        writes += await load;
        await sleep(Math.max(0, STOPPED_MS - (Date.now() - stoppedAt)));

        // 3. Resumed: the heartbeats written meanwhile come through and the stall clears.
        f.pipeline.poller.start();
        o.log('stalled mapping: mapping resumed');
        const clearedAfter = await timeUntil(() => !stalledNow(), 60_000, tick);
        if (clearedAfter === undefined) problems.push('the stall did not clear within 60 s of the mapping resuming');
        writes += await randomWorkload(f.writer, { nodes: 20, firstNode: 41, writes: 300, random, concurrency: 4 });
        writer.stop();
        const heartbeatsWritten = writer.written();

        const observation = await observePipeline('stalled mapping', f, writes + heartbeatsWritten, 600_000);
        tick();
        // The node records are the invariants' (the oracle knows no heartbeat); the heartbeat records are checked here.
        const beats = observation.records.filter(isHeartbeatRecord);
        const report = checkInvariants({
          ...observation,
          writes,
          records: observation.records.filter((r) => !isHeartbeatRecord(r)),
          // The mapping read the heartbeat records too; the invariants count node records only.
          progress: { read: observation.progress.read - beats.length, done: observation.progress.done - beats.length },
          delivered: observation.delivered.filter((e) => e['detail-type'] !== HEARTBEAT_DETAIL_TYPE),
          table: new Map([...observation.table].filter(([uuid]) => uuid !== HEARTBEAT_ITEM_KEY)),
        });
        const heartbeatSequences = new Map<string, Set<string>>();
        for (const e of observation.delivered) {
          if (e['detail-type'] !== HEARTBEAT_DETAIL_TYPE) continue;
          const d = HeartbeatDetail.parse(e.detail);
          heartbeatSequences.set(d.sequence_number, (heartbeatSequences.get(d.sequence_number) ?? new Set()).add(d.message_id));
        }
        for (const r of beats) {
          const ids = heartbeatSequences.get(String(r.dynamodb?.SequenceNumber));
          if (ids === undefined) problems.push(`LOST heartbeat record ${String(r.eventID)} (seq ${String(r.dynamodb?.SequenceNumber)}): no heartbeat event`);
          else if (ids.size !== 1) problems.push(`heartbeat record ${String(r.eventID)} came out with ${ids.size} message ids`);
        }
        if (beats.length !== heartbeatsWritten) problems.push(`${heartbeatsWritten} heartbeats written, ${beats.length} heartbeat records in the stream`);
        return {
          report: { ...report, lost: report.lost + problems.filter((p) => p.startsWith('LOST')).length, violations: [...report.violations, ...problems] },
          faults: `mapping stopped ${STOPPED_MS / 1000} s; ${runtimeSummary(f)}`,
          notes: [
            `${heartbeatsWritten} heartbeats written, ${heartbeatSequences.size} came out; stalled detected ${detectedAfter ?? '–'} ms after the mapping stopped (window ${STALLED_AFTER_MS} ms), cleared ${clearedAfter ?? '–'} ms after it resumed; last ${monitor.describe(Date.now())}`,
          ],
        };
      } finally {
        writer.stop();
      }
    }),
};

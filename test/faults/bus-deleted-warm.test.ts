/**
 * The event bus deleted under a warm notifier instance, at the handler level: the real notifier
 * (as Lambda runs it, with its real clients) publishing over HTTP to the local bus, which, once
 * deleted, answers PutEvents with success and delivers nothing, as EventBridge does for a bus
 * that does not exist. The instance's start-up check is long past; the next heartbeat is what
 * must see it (and so the stalled alarm, which counts HeartbeatsPublished).
 */
import { describe, expect, it } from 'vitest';
import { DescribeEventBusCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HEARTBEAT_DETAIL_TYPE, HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { METRIC } from '../../functions/notifier/metric-names.js';
import { localClientConfig } from '../../local/local-aws.js';
import { seededRandom } from '../../local/seeded-random.js';
import { checkInvariants, describeReport, type ObservedRecord } from './invariants.js';
import { FakeTable, LambdaRuntime, observeFake, randomWorkload, runShard, startLocalServices, waitUntil } from './support.js';

const isHeartbeatRecord = (r: ObservedRecord) => r.dynamodb?.Keys?.uuid?.S === HEARTBEAT_ITEM_KEY;

describe('the local bus, deleted', () => {
  it('answers DescribeEventBus with ResourceNotFoundException and PutEvents with success, delivering nothing; made again, it delivers', async () => {
    const s = await startLocalServices();
    const eb = new EventBridgeClient({ ...localClientConfig(s.bus.endpoint), maxAttempts: 1 });
    const put = (n: number) => eb.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: `{"n":${n}}`, EventBusName: s.bus.bus.busArn }] }));
    try {
      s.bus.bus.deleted = true;
      await expect(eb.send(new DescribeEventBusCommand({ Name: s.bus.bus.busArn }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(put(1)).resolves.toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
      expect(s.delivered).toEqual([]);
      s.bus.bus.deleted = false;
      await expect(eb.send(new DescribeEventBusCommand({ Name: s.bus.bus.busArn }))).resolves.toMatchObject({ Arn: s.bus.bus.busArn });
      await put(2);
      expect(s.delivered.map((e) => e.detail)).toEqual([{ n: 2 }]);
    } finally {
      eb.destroy();
      await s.close();
    }
  });
});

describe('a bus deleted under a warm instance', () => {
  it('the next heartbeat batch fails: no HeartbeatsPublished while the bus is gone, and once it is back nothing is lost', async () => {
    const s = await startLocalServices();
    // DescribeEventBus requests of the invocation under way, then of each invocation, in order.
    let described = 0;
    const asked: { count: number; heartbeat: boolean; deleted: boolean }[] = [];
    s.bus.bus.faults = {
      request: (op) => {
        if (op === 'DescribeEventBus') described++;
        return undefined;
      },
    };
    const runtime = new LambdaRuntime({ config: s.config(), busEndpoint: s.bus.endpoint, sqsEndpoint: s.sqs.endpoint, sleep: async () => {} });
    try {
      const table = new FakeTable();
      await randomWorkload(table, { nodes: 5, writes: 35, random: seededRandom(31) });
      const beforeBeat = table.records.length;
      table.put({ uuid: { S: HEARTBEAT_ITEM_KEY }, [HEARTBEAT_WRITTEN_AT_ATTRIBUTE]: { S: new Date().toISOString() } });
      await randomWorkload(table, { nodes: 5, writes: 35, firstNode: 6, random: seededRandom(32) });
      const batchSize = 10;
      const beatBatch = Math.floor(beforeBeat / batchSize);
      expect(beatBatch).toBeGreaterThan(0); // the instance is warm when the bus goes

      let failedWhileDeleted = 0;
      let publishedWhileDeleted: number | undefined;
      // Whether the invocation under way holds the heartbeat record.
      let heldBeat = false;
      const handler: typeof runtime.handler = (event) => {
        heldBeat = event.Records.some(isHeartbeatRecord);
        return runtime.handler(event);
      };
      const run = await runShard(table.records, handler, {
        batchSize,
        // Deleted just before the batch holding the heartbeat: the batches before it were published.
        between: (batch) => {
          if (batch === beatBatch) s.bus.bus.deleted = true;
        },
        onInvoke: (outcome) => {
          // `deleted`: the bus was gone when the invocation answered.
          asked.push({ count: described, heartbeat: heldBeat, deleted: s.bus.bus.deleted });
          described = 0;
          if (!s.bus.bus.deleted || outcome.kind !== 'error') return;
          expect(outcome.error).toMatch(/EVENT_BUS_NAME: the event bus '.*' does not exist/);
          // Made again after three failed invocations (minutes, in a deployment).
          if (++failedWhileDeleted === 3) {
            publishedWhileDeleted = runtime.metrics.total(METRIC.heartbeatsPublished);
            s.bus.bus.deleted = false;
          }
        },
      });
      await waitUntil(() => s.bus.pending() === 0 && s.sqs.pending() === 0, 'the servers to finish the requests in hand');

      // Before the fix: no invocation failed, the heartbeat counted as published into the void,
      // and every record from its batch on was lost.
      expect(failedWhileDeleted).toBe(3);
      expect(publishedWhileDeleted).toBe(0);
      expect(runtime.metrics.total(METRIC.heartbeatsPublished)).toBe(1);
      expect(s.delivered.filter((e) => e['detail-type'] === HEARTBEAT_DETAIL_TYPE)).toHaveLength(1);
      // The warm instance found it, not a cold start. DescribeEventBus: once at start-up, then
      // once in an invocation holding the heartbeat or following one that failed with the bus
      // gone (an instance that found no bus checks first, as at start-up); never otherwise.
      expect(runtime.stats.coldStarts).toBe(1);
      const expected = asked.map((a, i) => (i === 0 || a.heartbeat || asked[i - 1]!.deleted ? 1 : 0));
      expect(asked.map((a) => a.count), JSON.stringify(asked)).toEqual(expected);
      expect(expected.filter((n) => n === 0).length).toBeGreaterThan(asked.length / 2);

      const observed = observeFake('bus deleted under a warm instance', table, s, run);
      const report = checkInvariants({
        ...observed,
        writes: observed.writes - 1,
        records: observed.records.filter((r) => !isHeartbeatRecord(r)),
        progress: { read: observed.progress.read - 1, done: observed.progress.done - 1 },
        delivered: observed.delivered.filter((e) => e['detail-type'] !== HEARTBEAT_DETAIL_TYPE),
      });
      expect(report.violations, describeReport(report)).toEqual([]);
      expect(report.lost).toBe(0);
      expect(run.onFailure).toEqual([]);
    } finally {
      runtime.close();
      await s.close();
    }
  });
});

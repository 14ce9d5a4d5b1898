/**
 * The heartbeat and a bus deleted under a warm instance. PutEvents to a missing bus answers
 * success (bus-check.ts), and the start-up DescribeEventBus runs only when an instance starts,
 * which the heartbeat's own invocation each minute keeps from happening: before this check the
 * heartbeat counted as published while every notification vanished, and the stalled alarm
 * stayed OK. A batch holding a heartbeat now asks DescribeEventBus once before the heartbeat
 * goes out; a missing bus fails the invocation as at start-up (nothing counted, nothing
 * acknowledged), and every invocation of the instance checks again until the bus is back.
 */
import { describe, expect, it } from 'vitest';
import { DescribeEventBusCommand, PutEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { HEARTBEAT_DETAIL_TYPE, HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { ConfigurationError } from '../../functions/notifier/errors.js';
import { METRIC } from '../../functions/notifier/metric-names.js';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage } from '../support/records.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:notifier';
const BUS_ARN = 'arn:aws:events:us-east-1:123456789012:event-bus/test-bus';
const NOW = Date.parse('2026-12-04T19:02:03.250Z');

const beat = (writtenAt: string) => ({ uuid: { S: HEARTBEAT_ITEM_KEY }, [HEARTBEAT_WRITTEN_AT_ATTRIBUTE]: { S: writtenAt } });
const missingBus = () => new ResourceNotFoundException({ message: 'Event bus test-bus does not exist.', $metadata: {} });

/** A notifier as handler.ts wires it (bus checks on), against a bus that can be deleted and made again. */
function warmInstance() {
  const h = harness({}, { now: () => NOW, checkEventBus: true, functionArn: FUNCTION_ARN });
  const bus = { exists: true };
  h.eb.on(DescribeEventBusCommand).callsFake(async () => {
    if (!bus.exists) throw missingBus();
    return { Name: 'test-bus', Arn: BUS_ARN };
  });
  // As EventBridge: success whether or not the bus exists.
  h.eb.on(PutEventsCommand).callsFake(allAccepted);
  h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
  const published = () => h.emitted.map((line) => (JSON.parse(line) as Record<string, unknown>)[METRIC.heartbeatsPublished]).filter((v) => v !== undefined);
  const described = () => h.eb.commandCalls(DescribeEventBusCommand).length;
  const heartbeatsSent = () => h.sentEntries().filter((e) => e.DetailType === HEARTBEAT_DETAIL_TYPE).length;
  return { h, bus, published, described, heartbeatsSent };
}

describe('a heartbeat on a warm instance checks that the bus still exists', () => {
  it('the bus deleted after start-up: the heartbeat batch fails naming the bus, no HeartbeatsPublished, and the instance fails until the bus is back', async () => {
    const { h, bus, published, described, heartbeatsSent } = warmInstance();
    // Start-up check, then a heartbeat a minute: the instance stays warm.
    await expect(h.invoke([insert(nodeImage(1))])).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke([modify(beat('2026-12-04T19:01:00Z'), beat('2026-12-04T19:02:00Z'))])).resolves.toEqual({ batchItemFailures: [] });
    expect(published()).toEqual([1]);
    expect(heartbeatsSent()).toBe(1);

    bus.exists = false;
    const batch = [insert(nodeImage(2)), modify(beat('2026-12-04T19:02:00Z'), beat('2026-12-04T19:03:00Z')), insert(nodeImage(3))];
    const failed = await h.invoke(batch).then(
      (response) => ({ response }),
      (error: unknown) => ({ error }),
    );
    // Before the fix: { response: { batchItemFailures: [] } } and HeartbeatsPublished [1, 1].
    expect(failed).toEqual({ error: expect.any(ConfigurationError) });
    expect(String((failed as { error: Error }).error.message)).toMatch(/^EVENT_BUS_NAME: the event bus 'test-bus' does not exist/);
    expect(published()).toEqual([1]);
    // The heartbeat itself was not put into the void.
    expect(heartbeatsSent()).toBe(1);
    expect(h.quarantined()).toEqual([]);

    // As after a start-up that found no bus: a batch without a heartbeat fails too, and sends nothing.
    const sentBefore = h.sentEntries().length;
    await expect(h.invoke([insert(nodeImage(4))])).rejects.toBeInstanceOf(ConfigurationError);
    expect(h.sentEntries().length).toBe(sentBefore);

    // The bus made again: Lambda's retry of the batch publishes all of it, and the heartbeat counts.
    bus.exists = true;
    const sentBeforeRetry = h.sentEntries().length;
    await expect(h.invoke(batch)).resolves.toEqual({ batchItemFailures: [] });
    expect(published()).toEqual([1, 1]);
    expect(heartbeatsSent()).toBe(2);
    expect(h.sentEntries().length - sentBeforeRetry).toBe(batch.length);
    expect(described()).toBe(5); // start-up, two heartbeat batches, the failing batch without one, the retry
  });

  it('asks at most once a batch, only for a batch holding a heartbeat, never per record', async () => {
    const { h, described, published } = warmInstance();
    await h.invoke([insert(nodeImage(1))]);
    expect(described()).toBe(1);
    // A warm instance with no heartbeat in the batch: no request.
    await h.invoke([insert(nodeImage(2)), insert(nodeImage(3))]);
    expect(described()).toBe(1);
    // Three heartbeat records between node records: one request.
    const beats = ['19:01', '19:02', '19:03', '19:04'].map((t) => beat(`2026-12-04T${t}:00Z`));
    await h.invoke([insert(nodeImage(4)), modify(beats[0]!, beats[1]!), insert(nodeImage(5)), modify(beats[1]!, beats[2]!), modify(beats[2]!, beats[3]!)]);
    expect(described()).toBe(2);
    expect(published()).toEqual([3]);
  });

  it('a cold start whose first batch holds the heartbeat asks once, not twice', async () => {
    const { h, described, published } = warmInstance();
    await h.invoke([insert(beat('2026-12-04T19:02:00Z')), insert(nodeImage(1))]);
    expect(described()).toBe(1);
    expect(published()).toEqual([1]);
  });

  it("a bus ARN of another region (a global endpoint's secondary) stays unverified: the heartbeat is published and counted", async () => {
    const h = harness({ EVENT_BUS_NAME: 'arn:aws:events:us-west-2:123456789012:event-bus/notifications' }, { now: () => NOW, checkEventBus: true, functionArn: FUNCTION_ARN });
    h.eb.on(DescribeEventBusCommand).rejects(
      Object.assign(new Error('1 validation error detected'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
    );
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    for (const minute of ['19:01', '19:02']) {
      await expect(h.invoke([insert(beat(`2026-12-04T${minute}:00Z`))])).resolves.toEqual({ batchItemFailures: [] });
    }
    const published = h.emitted.map((line) => (JSON.parse(line) as Record<string, unknown>)[METRIC.heartbeatsPublished]).filter((v) => v !== undefined);
    expect(published).toEqual([1, 1]);
  });

  it('a check that can never decide (access denied, a bus of another account) is not repeated at each heartbeat; the heartbeat counts', async () => {
    const denied = harness({}, { now: () => NOW, checkEventBus: true, functionArn: FUNCTION_ARN });
    denied.eb.on(DescribeEventBusCommand).rejects(Object.assign(new Error('not authorized to perform: events:DescribeEventBus'), { name: 'AccessDeniedException' }));
    denied.eb.on(PutEventsCommand).callsFake(allAccepted);
    const otherAccount = harness({ EVENT_BUS_NAME: 'arn:aws:events:us-east-1:999999999999:event-bus/shared' }, { now: () => NOW, checkEventBus: true, functionArn: FUNCTION_ARN });
    otherAccount.eb.on(PutEventsCommand).callsFake(allAccepted);
    for (const h of [denied, otherAccount]) {
      for (const minute of ['19:01', '19:02', '19:03']) await h.invoke([insert(beat(`2026-12-04T${minute}:00Z`))]);
      const published = h.emitted.map((line) => (JSON.parse(line) as Record<string, unknown>)[METRIC.heartbeatsPublished]).filter((v) => v !== undefined);
      expect(published).toEqual([1, 1, 1]);
    }
    expect(denied.eb.commandCalls(DescribeEventBusCommand)).toHaveLength(1);
    expect(otherAccount.eb.commandCalls(DescribeEventBusCommand)).toHaveLength(0);
  });
});

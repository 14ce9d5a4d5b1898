/**
 * The fault hooks of the local stand-ins, seen from the real SDK clients: what each injected
 * fault looks like to the notifier, DescribeEventBus, and the quarantine's 1 MiB messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeEventBusCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { REQUEST_TIMEOUTS } from '../../functions/notifier/client-config.js';
import { isTransientError } from '../../functions/notifier/transient-errors.js';
import { busFaults, FaultLog, scriptedFaults, sqsFaults } from '../../local/faults.js';
import { localClientConfig } from '../../local/local-aws.js';
import { seededRandom } from '../../local/seeded-random.js';
import { startLocalServices, type LocalServices } from './support.js';

let s: LocalServices;
let eb: EventBridgeClient;
let sqs: SQSClient;
const entry = (n: number) => ({ Source: 'openstack.nova', DetailType: 'compute_node.update', Detail: `{"n":${n}}`, EventBusName: s.bus.bus.busArn });

beforeAll(async () => {
  s = await startLocalServices();
  eb = new EventBridgeClient({ ...localClientConfig(s.bus.endpoint), maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS });
  sqs = new SQSClient({ ...localClientConfig(s.sqs.endpoint), maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS });
});
afterAll(async () => {
  eb?.destroy();
  sqs?.destroy();
  await s?.close();
});

describe('the local bus', () => {
  it('answers DescribeEventBus for its bus, and ResourceNotFoundException for any other', async () => {
    await expect(eb.send(new DescribeEventBusCommand({ Name: s.bus.bus.busArn }))).resolves.toMatchObject({ Arn: s.bus.bus.busArn });
    await expect(eb.send(new DescribeEventBusCommand({ Name: 'fault-bus' }))).resolves.toMatchObject({ Name: 'fault-bus' });
    await expect(eb.send(new DescribeEventBusCommand({ Name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('injects throttling, per-entry failures and dropped connections, each as the notifier sees them', async () => {
    const log = new FaultLog();
    s.bus.bus.faults = busFaults({ failEntries: 1, random: seededRandom(1), log });
    const partial = await eb.send(new PutEventsCommand({ Entries: [entry(1), entry(2)] }));
    expect(partial.FailedEntryCount).toBe(2);
    expect(partial.Entries!.map((e) => e.ErrorCode).every((c) => c === 'ThrottlingException' || c === 'InternalFailure')).toBe(true);

    s.bus.bus.faults = busFaults({ throttleRequests: 1, random: seededRandom(1), log });
    const throttled = await eb.send(new PutEventsCommand({ Entries: [entry(3)] })).catch((e: unknown) => e);
    expect(throttled).toMatchObject({ name: 'ThrottlingException' });
    expect(isTransientError(throttled)).toBe(true);

    const before = s.delivered.length;
    s.bus.bus.faults = scriptedFaults({ 0: { kind: 'drop' }, 1: { kind: 'drop', after: true } }, { log });
    const dropped = await eb.send(new PutEventsCommand({ Entries: [entry(4)] })).catch((e: unknown) => e);
    const droppedAfter = await eb.send(new PutEventsCommand({ Entries: [entry(5)] })).catch((e: unknown) => e);
    expect(isTransientError(dropped)).toBe(true);
    expect(isTransientError(droppedAfter)).toBe(true);
    // Dropped before: nothing delivered. Dropped after: delivered, though the client saw an error.
    expect(s.delivered.slice(before).map((e) => e.detail.n)).toEqual([5]);
    expect(log.summary()).toMatch(/request:drop=1 request:drop-after=1/);
    s.bus.bus.faults = undefined;
  });
});

describe('the local quarantine queue', () => {
  it('injects an outage and failed entries, and takes messages up to 1 MiB as the stack’s queue does', async () => {
    const QueueUrl = s.queueUrl;
    s.sqs.sqs.faults = sqsFaults({ unavailable: 1, random: seededRandom(2) });
    const down = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '0', MessageBody: 'x' }] })).catch((e: unknown) => e);
    expect(down).toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(isTransientError(down)).toBe(true);

    s.sqs.sqs.faults = sqsFaults({ failEntries: 1, random: seededRandom(2) });
    const failed = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '0', MessageBody: 'x' }] }));
    expect(failed.Failed).toEqual([expect.objectContaining({ Id: '0', Code: 'InternalError', SenderFault: false })]);

    s.sqs.sqs.faults = undefined;
    const big = 'q'.repeat(900 * 1024);
    const ok = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '0', MessageBody: big }] }));
    expect(ok.Successful).toHaveLength(1);
    expect(s.quarantined().at(-1)).toBe(big);
  });
});

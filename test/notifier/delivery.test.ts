import { describe, expect, it } from 'vitest';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, remove } from '../support/records.js';

const creates = (n: number, from = 1) => Array.from({ length: n }, (_, i) => insert(nodeImage(from + i)));

describe('batching PutEvents across records', () => {
  it('sends 25 notifications in 3 requests of at most 10 entries, in record order', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const records = creates(25);
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([]);
    const calls = h.eb.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length).sort()).toEqual([10, 10, 5]);
    const ids = h.sentEntries().map((e) => JSON.parse(e.Detail!).payload['nova_object.data'].id);
    expect(ids.sort((a, b) => a - b)).toEqual(records.map((_, i) => i + 1));
  });

  it('keeps each request under 256 KB as EventBridge counts it', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    // ~60 KB per entry: four fit in a request, five do not.
    const big = 'h'.repeat(60_000);
    await h.invoke(Array.from({ length: 9 }, (_, i) => insert(nodeImage(i + 1, { hypervisor_hostname: { S: big } }))));
    const sizes = h.eb.commandCalls(PutEventsCommand).map((c) =>
      (c.args[0].input.Entries ?? []).reduce((sum, e) => sum + 14 + e.Source!.length + e.DetailType!.length + Buffer.byteLength(e.Detail!), 0),
    );
    expect(sizes.length).toBe(3);
    for (const s of sizes) expect(s).toBeLessThan(256 * 1024);
  });

  it('quarantines an entry too large for EventBridge without sending it', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    // 200 KB fits in an entry; 280 KB does not.
    const huge = insert(nodeImage(1, { hypervisor_hostname: { S: 'x'.repeat(200_000) } }));
    const huge2 = insert(nodeImage(2, { hypervisor_type: { S: 'y'.repeat(140_000) }, hypervisor_hostname: { S: 'x'.repeat(140_000) } }));
    const response = await h.invoke([huge, huge2, ...creates(2, 3)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sentEntries().length).toBe(3);
    expect(h.sentEntries().some((e) => e.Detail!.includes('x'.repeat(200_000)))).toBe(true);
    const q = h.quarantined();
    expect(q.map((m) => m.errorCode)).toEqual(['EntryTooLarge']);
    expect(q[0]!.eventID).toBe(huge2.eventID);
  });
});

describe('partial failures and retries', () => {
  it('retries only the entries that failed with ThrottlingException or InternalFailure', async () => {
    const h = harness();
    h.eb
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' }],
      })
      .callsFake(allAccepted);
    const records = creates(3);
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([]);
    const calls = h.eb.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Entries).toEqual(calls[0]!.args[0].input.Entries!.slice(1));
    expect(h.sleeps).toHaveLength(1);
  });

  it('retries a request that failed on the network', async () => {
    const h = harness();
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    h.eb.on(PutEventsCommand).rejectsOnce(reset).callsFake(allAccepted);
    const response = await h.invoke(creates(2));
    expect(response.batchItemFailures).toEqual([]);
    expect(h.eb.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(h.sentEntries()).toHaveLength(4);
  });

  it('backs off exponentially with jitter between attempts', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
      .callsFake(allAccepted);
    await h.invoke(creates(1));
    // random() is 0.5 in the harness: half of 50·2^attempt.
    expect(h.sleeps).toEqual([50, 100, 200]);
  });

  it('reports the earliest unpublished record when throttling outlasts the invocation', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) => (e.Detail.includes('"id":11,') ? { ErrorCode: 'ThrottlingException' } : { EventId: 'ok' })),
    }));
    const records = creates(12);
    const response = await h.invoke(records);
    // Record 11 is throttled to the end; record 12, published, comes again after the retry.
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[10]!.dynamodb.SequenceNumber }]);
  });

  it('quarantines entries EventBridge refuses for good, with their error code', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }],
    });
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const records = creates(2);
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([]);
    const [message] = h.quarantined();
    expect(message).toMatchObject({ reason: 'event_rejected', errorCode: 'MalformedDetail', eventID: records[1]!.eventID });
    expect(message!.record).toEqual(records[1]);
  });

  it('finds the entry to blame when a whole request is refused with ValidationException', async () => {
    const h = harness();
    const validation = Object.assign(new Error('bad entry'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    h.eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
      if (input.Entries.some((e) => e.Detail.includes('"id":2,'))) throw validation;
      return allAccepted(input);
    });
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const records = creates(3);
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.quarantined().map((m) => m.eventID)).toEqual([records[1]!.eventID]);
    expect(h.sentEntries().filter((e) => !e.Detail!.includes('"id":2,')).length).toBeGreaterThanOrEqual(2);
  });

  it('does not quarantine records for an error they are not to blame for (access denied)', async () => {
    const h = harness();
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    h.eb.on(PutEventsCommand).rejects(denied);
    const records = creates(3);
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.dynamodb.SequenceNumber }]);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('quarantine', () => {
  it('sends an invalid record with its full content and each offending field', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const bad = insert(nodeImage(7, { vcpus: { N: '8.5' }, host_ip: { S: '999.1.1.1' }, uuid: { S: 'nope' } }));
    const response = await h.invoke([insert(nodeImage(6)), bad, insert(nodeImage(8))]);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sentEntries()).toHaveLength(2);
    const [m] = h.quarantined();
    expect(m).toMatchObject({ reason: 'invalid_record', eventID: bad.eventID, sequenceNumber: bad.dynamodb.SequenceNumber });
    expect(m!.record).toEqual(bad);
    expect(m!.issues).toEqual([
      { field: 'uuid', value: { S: 'nope' }, rule: expect.stringContaining('must be a UUID') },
      { field: 'vcpus', value: { N: '8.5' }, rule: 'must be an integer, not a fraction' },
      { field: 'host_ip', value: { S: '999.1.1.1' }, rule: expect.stringContaining('IPv4') },
    ]);
  });

  it('logs quarantined records a hundred to a line, each named by eventID and sequence number with its problem', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const bad = Array.from({ length: 150 }, (_, i) => insert(nodeImage(i + 1, { vcpus: { N: '1.5' } })));
    await h.invoke([insert(nodeImage(500)), ...bad]);
    const lines = h.logs.filter((l) => (l as { message?: string }).message === 'records quarantined') as { count: number; records: { eventID: string; sequenceNumber: string; problem: string; quarantined: boolean }[] }[];
    expect(lines.map((l) => l.count)).toEqual([100, 50]);
    const named = lines.flatMap((l) => l.records);
    expect(named.map((r) => [r.eventID, r.sequenceNumber])).toEqual(bad.map((b) => [b.eventID, b.dynamodb.SequenceNumber]));
    for (const r of named) expect(r.problem).toBe('vcpus: must be an integer, not a fraction');
  });

  it('quarantines a record that is not a stream record at all, naming the field', async () => {
    const h = harness();
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const broken = { eventID: 'x', eventName: 'UPSERT', dynamodb: { SequenceNumber: '5', ApproximateCreationDateTime: 1 } };
    const response = await h.invoke([broken]);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.quarantined()[0]!.issues).toEqual([expect.objectContaining({ field: 'eventName', value: 'UPSERT' })]);
  });

  it('reports a record as a batch item failure when the quarantine itself fails', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    h.sq.on(SendMessageBatchCommand).rejects(Object.assign(new Error('queue gone'), { name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } }));
    const records = [insert(nodeImage(1)), insert(nodeImage(2, { vcpus: { S: 'eight' } })), insert(nodeImage(3))];
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb.SequenceNumber }]);
  });

  it('reports a record too large for an SQS message instead of truncating it', async () => {
    const h = harness();
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    // Two 600 KB images of an invalid node: the message would exceed SQS's 1 MiB.
    const fat = nodeImage(2, { vcpus: { S: 'eight' }, hypervisor_hostname: { S: 'z'.repeat(600_000) } });
    const records = [insert(nodeImage(1, { vcpus: { S: 'x' } })), modify(fat, fat)];
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb.SequenceNumber }]);
    expect(h.quarantined().map((m) => m.eventID)).toEqual([records[0]!.eventID]);
  });

  it('retries quarantine messages that failed transiently', async () => {
    const h = harness();
    h.sq
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'try again' }] })
      .callsFake(allQueued);
    const response = await h.invoke([insert(nodeImage(1, { vcpus: { S: 'eight' } }))]);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });
});

describe('what is sent for each kind of change', () => {
  it('sends nothing for an update that changes only unwatched fields, and counts it', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const before = nodeImage(1);
    await h.invoke([modify(before, { ...before, memory_mb_used: { N: '5000' }, free_ram_mb: { N: '11384' } })]);
    expect(h.sentEntries()).toEqual([]);
    expect(h.emitted.join('\n')).toMatch(/"UpdatesSuppressed":1\b/);
  });

  it('treats numbers that DynamoDB spells differently as equal', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const before = nodeImage(1);
    await h.invoke([modify(before, { ...before, vcpus: { N: '8.0' } })]);
    expect(h.sentEntries()).toEqual([]);
  });

  it('sends an update naming the watched fields that changed', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const before = nodeImage(1);
    await h.invoke([modify(before, { ...before, running_vms: { N: '3' }, vcpus_used: { N: '3' }, memory_mb_used: { N: '1' } })]);
    const [entry] = h.sentEntries();
    expect(entry!.DetailType).toBe('compute_node.update');
    expect(JSON.parse(entry!.Detail!).change).toEqual({
      sequence_number: expect.stringMatching(/^\d{21}$/),
      epoch: '2026-11-26T00:00:00.000',
      changed_fields: ['vcpus_used', 'running_vms'],
      origin: 'stream',
      cause: 'modify',
      resync_run: null,
    });
  });

  it('honours a configured watched-field list', async () => {
    const h = harness({ WATCHED_FIELDS: 'memory_mb_used' });
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const before = nodeImage(1);
    await h.invoke([modify(before, { ...before, running_vms: { N: '3' } }), modify(before, { ...before, memory_mb_used: { N: '1' } })]);
    expect(h.sentEntries().map((e) => JSON.parse(e.Detail!).change.changed_fields)).toEqual([['memory_mb_used']]);
  });

  it('sends a delete for a soft delete, and nothing for later changes to the soft-deleted node', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const live = nodeImage(4, { deleted: { N: '0' } });
    const gone = { ...live, deleted: { N: '4' } };
    await h.invoke([modify(live, gone), modify(gone, { ...gone, running_vms: { N: '0' } }), remove(gone)]);
    const sent = h.sentEntries();
    expect(sent.map((e) => e.DetailType)).toEqual(['compute_node.delete']);
    const detail = JSON.parse(sent[0]!.Detail!);
    expect(detail.payload['nova_object.data']).toEqual({ id: 4, uuid: live.uuid!.S });
    expect(detail.change.cause).toBe('soft_delete');
  });

  it('sends a delete for a TTL expiry, marked as one', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    await h.invoke([remove(nodeImage(9), { ttl: true }), remove(nodeImage(10))]);
    const causes = h.sentEntries().map((e) => [e.DetailType, JSON.parse(e.Detail!).change.cause]);
    expect(causes).toEqual([
      ['compute_node.delete', 'ttl'],
      ['compute_node.delete', 'remove'],
    ]);
  });

  it('uses the fallback publisher host when the node has none', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    await h.invoke([insert(nodeImage(1, { host: { S: '' } })), insert(nodeImage(2, { host: undefined })), insert(nodeImage(3, { host: { NULL: true } }))]);
    expect(h.sentEntries().map((e) => JSON.parse(e.Detail!).publisher_id)).toEqual(Array(3).fill('nova-compute:fallback-host'));
  });

  it('yields byte-identical entries for a retried record', async () => {
    const a = harness();
    const b = harness();
    a.eb.on(PutEventsCommand).callsFake(allAccepted);
    b.eb.on(PutEventsCommand).callsFake(allAccepted);
    const r = insert(nodeImage(1), { time: 1795719961.25 });
    await a.invoke([r]);
    await b.invoke([structuredClone(r)]);
    expect(a.sentEntries()).toEqual(b.sentEntries());
    const [entry] = a.sentEntries();
    expect(entry!.Time).toEqual(new Date('2026-11-26T19:06:01.250Z'));
    expect(JSON.parse(entry!.Detail!).timestamp).toBe('2026-11-26 19:06:01.250000');
  });

  it('gives different records different message ids', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const before = nodeImage(1);
    await h.invoke([insert(before), modify(before, { ...before, vcpus: { N: '9' } })]);
    const ids = h.sentEntries().map((e) => JSON.parse(e.Detail!).message_id);
    expect(new Set(ids).size).toBe(2);
  });
});

describe('configuration errors', () => {
  it('refuses an unknown watched field at start-up, naming it', () => {
    expect(() => harness({ WATCHED_FIELDS: 'vcpus,vpcus' })).toThrow(/unknown field 'vpcus'/);
  });

  it('refuses to start without a quarantine queue', async () => {
    const { createNotifier } = await import('../../functions/notifier/notifier.js');
    const h = harness();
    expect(() => createNotifier({ ...h, config: { ...h.config, quarantineQueueUrl: undefined } } as never)).toThrow(/QUARANTINE_QUEUE_URL/);
  });

  it('reports a stream without images as a configuration error', async () => {
    const h = harness();
    const keysOnly = insert(nodeImage(1));
    const { NewImage: _dropped, ...dynamodb } = keysOnly.dynamodb;
    await expect(h.invoke([{ ...keysOnly, dynamodb: { ...dynamodb, StreamViewType: 'KEYS_ONLY' } }])).rejects.toThrow(/KEYS_ONLY.*NEW_AND_OLD_IMAGES/);
  });

  it('refuses an event that is not a stream event', async () => {
    const h = harness();
    await expect(h.invoke(undefined as never)).rejects.toThrow(/not a DynamoDB stream event/);
  });
});

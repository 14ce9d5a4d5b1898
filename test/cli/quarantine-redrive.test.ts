/**
 * `cli quarantine summary|show|redrive` and `cli redrive --file/--directory` against the local
 * stand-ins (the SQS stand-in of local/sqs-server.ts and the local bus), started on loopback
 * by the test itself.
 */
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quarantineCommand } from '../../cli/quarantine.js';
import { S3ClaimCheckStore } from '../../functions/notifier/claim-check.js';
import { quarantine, type QuarantineMessage } from '../../functions/notifier/quarantine.js';
import { redriveCommand } from '../../cli/redrive.js';
import { localClientConfig } from '../../local/local-aws.js';
import { DirectoryOnFailureStore } from '../../local/on-failure-directory.js';
import { QUARANTINE_QUEUE } from '../../local/pipeline.js';
import { startLocalServices, type LocalServices } from '../faults/support.js';
import { insert, modify, nodeImage } from '../support/records.js';
import { s3Object } from '../redrive/support.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => '' } };
}
const lines = (chunks: string[]) => chunks.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

let services: LocalServices;
let sqs: SQSClient;
let eventBridge: EventBridgeClient;
let env: Record<string, string>;

beforeAll(async () => {
  services = await startLocalServices();
  sqs = new SQSClient(localClientConfig(services.sqs.endpoint));
  eventBridge = new EventBridgeClient({ ...localClientConfig(services.bus.endpoint), maxAttempts: 1 });
  env = { EVENT_BUS_NAME: services.bus.bus.busArn, QUARANTINE_QUEUE_URL: services.queueUrl };
});
afterAll(async () => {
  sqs.destroy();
  eventBridge.destroy();
  await services.close();
});
beforeEach(() => {
  // Empty the queue and the bus's record between tests.
  const q = (services.sqs.sqs as unknown as { queues: Map<string, unknown[]> }).queues.get(QUARANTINE_QUEUE)!;
  q.length = 0;
  services.delivered.length = 0;
});

/** Quarantines records through the notifier itself (the stream path), as the stream would. */
async function quarantineThroughStream(records: unknown[]): Promise<void> {
  const { cliNotifier, CLI_CONTEXT } = await import('../../cli/notifier-setup.js');
  const handler = cliNotifier(services.config(), eventBridge, sqs);
  await handler({ Records: records }, CLI_CONTEXT);
}

describe('cli quarantine', () => {
  it('summary counts by reason, field and rule with the oldest, and consumes nothing', async () => {
    const badVcpus = [insert(nodeImage(1, { vcpus: { N: '8.5' } })), insert(nodeImage(2, { vcpus: { N: '3.5' } }))];
    const badBoth = insert(nodeImage(3, { vcpus: { N: '2.5' }, host: { N: '7' } }));
    await quarantineThroughStream([...badVcpus, badBoth]);
    expect(services.quarantined()).toHaveLength(3);

    const t = io();
    expect(await quarantineCommand(['summary', '--visibility', '30'], t.io, { env, sqs })).toBe(0);
    const summary = JSON.parse(t.out.join('')) as { messages: number; byReason: Record<string, number>; byField: Record<string, number>; byRule: Record<string, number>; oldest: { eventID: string } | null };
    expect(summary.messages).toBe(3);
    expect(summary.byReason).toEqual({ invalid_record: 3 });
    expect(summary.byField.vcpus).toBe(3);
    expect(summary.byField.host).toBe(1);
    expect(Object.values(summary.byRule).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
    expect(summary.oldest).not.toBeNull();

    // Released: visible again at once, and still all there.
    const again = io();
    expect(await quarantineCommand(['show'], again.io, { env, sqs })).toBe(0);
    const shown = lines(again.out);
    expect(shown).toHaveLength(3);
    expect(shown.every((m) => (m.receiveCount as number) === 2)).toBe(true);
    expect(services.quarantined()).toHaveLength(3);
  });

  it('redrive --dry-run prints what would be published and changes nothing; redrive publishes what is now valid with its original message_id and leaves the rest', async () => {
    const fixable = insert(nodeImage(4, { vcpus: { N: '8.5' } }));
    const stillBad = insert(nodeImage(5, { vcpus: { N: '8.5' } }));
    await quarantineThroughStream([fixable, stillBad]);
    // "After a fix": the operator's notifier now accepts the fixed record. Here the fix is
    // simulated by correcting the recorded record of one message, as a redeployed rule would.
    const q = (services.sqs.sqs as unknown as { queues: Map<string, { body: string }[]> }).queues.get(QUARANTINE_QUEUE)!;
    const i = q.findIndex((m) => (JSON.parse(m.body) as { eventID: string }).eventID === fixable.eventID);
    const fixed = insert(nodeImage(4), { sequence: fixable.dynamodb.SequenceNumber });
    const body = { ...(JSON.parse(q[i]!.body) as Record<string, unknown>), record: fixed };
    q.splice(i, 1);
    await sqs.send(new SendMessageCommand({ QueueUrl: services.queueUrl, MessageBody: JSON.stringify(body) }));

    const dry = io();
    expect(await quarantineCommand(['redrive', '--dry-run'], dry.io, { env, sqs, eventBridge })).toBe(0);
    const wouldPublish = lines(dry.out);
    expect(wouldPublish).toHaveLength(1);
    expect(wouldPublish[0]!.DetailType).toBe('compute_node.create');
    expect(services.delivered).toEqual([]);
    expect(services.quarantined()).toHaveLength(2);

    const real = io();
    expect(await quarantineCommand(['redrive'], real.io, { env, sqs, eventBridge })).toBe(0);
    expect(lines(real.out).at(-1)).toEqual({ redriven: 1, stays: 1, failed: 0 });
    expect(services.delivered).toHaveLength(1);
    // The same message_id the stream would have given the record.
    const detail = JSON.parse(wouldPublish[0]!.Detail as string) as { message_id: string };
    expect(services.delivered[0]!.detail.message_id).toBe(detail.message_id);
    const left = services.quarantined().map((b) => (JSON.parse(b) as { eventID: string }).eventID);
    expect(left).toEqual([stillBad.eventID]);
  });

  it('show prints a claim-checked message whole, from S3; redrive runs its record and deletes the pointer; a pointer whose object is gone stays, and the command says so', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const bucket = mockClient(s3);
    const objects = new Map<string, string>();
    bucket.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => void objects.set(input.Key, input.Body));
    bucket.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = objects.get(input.Key);
      if (body === undefined) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: { transformToString: async () => body } };
    });
    // A valid change whose two images carry an unwatched attribute that makes its quarantine
    // message over 1 MiB (JSON escapes each character to 2 or 6 bytes): EventBridge had refused it.
    const fat = '"\u0001'.repeat(150_000);
    const record = modify(nodeImage(6, { notes: { S: fat } }), nodeImage(6, { running_vms: { N: '3' }, notes: { S: fat } }));
    const message: QuarantineMessage = {
      reason: 'event_rejected',
      error: 'EventBridge refused the entry: InternalFailure: try again',
      errorCode: 'InternalFailure',
      eventID: record.eventID,
      eventName: record.eventName,
      sequenceNumber: record.dynamodb.SequenceNumber,
      record,
    };
    const sent = await quarantine(sqs, services.queueUrl, [{ key: 0, message }], { deadline: Date.now() + 30_000, claimCheck: new S3ClaimCheckStore(s3, 'on-failure-bucket') });
    expect([...sent.quarantined]).toEqual([0]);
    expect(objects.size).toBe(1);
    const goneKey = 'quarantine/0000.json';
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: services.queueUrl,
        MessageBody: JSON.stringify({ reason: 'invalid_record', error: 'not a valid compute node', eventID: 'ev-gone', eventName: 'INSERT', sequenceNumber: '1', claimCheck: { bucket: 'on-failure-bucket', key: goneKey, bytes: 10, sha256: 'ab' } }),
      }),
    );

    const shown = io();
    expect(await quarantineCommand(['show'], shown.io, { env, sqs, s3 })).toBe(1);
    const byEvent = new Map(lines(shown.out).map((l) => [(l.body as { eventID: string }).eventID, l]));
    expect((byEvent.get(record.eventID)!.body as { record: unknown }).record).toEqual(record);
    expect(byEvent.get(record.eventID)!.claimCheck).toMatchObject({ bucket: 'on-failure-bucket' });
    expect(byEvent.get('ev-gone')!.claimCheckError).toContain(goneKey);

    const real = io();
    expect(await quarantineCommand(['redrive'], real.io, { env, sqs, eventBridge, s3 })).toBe(1);
    expect(lines(real.out).at(-1)).toEqual({ redriven: 1, stays: 1, failed: 0, unreadable: 1 });
    expect(services.delivered.map((e) => e['detail-type'])).toEqual(['compute_node.update']);
    expect(services.quarantined().map((b) => (JSON.parse(b) as { eventID: string }).eventID)).toEqual(['ev-gone']);
  });
});

describe('cli redrive', () => {
  it('--file with QUARANTINE_BUCKET: a record whose quarantine message is over 1 MiB is claim-checked, and the object is done', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const bucket = mockClient(s3);
    const puts: { Bucket: string; Key: string }[] = [];
    bucket.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string }) => void puts.push(input));
    const dir = mkdtempSync(join(tmpdir(), 'redrive-cli-'));
    const fat = '"\u0001'.repeat(150_000);
    const big = modify(nodeImage(12, { vcpus: { S: 'eight' }, notes: { S: fat } }), nodeImage(12, { vcpus: { S: 'nine' }, notes: { S: fat } }));
    const file = join(dir, 'on-failure.json');
    writeFileSync(file, s3Object([insert(nodeImage(13)), big]));

    const t = io();
    expect(await redriveCommand(['--file', file, '--rate', '100', '--checkpoint', join(dir, 'cp.json')], t.io, { env: { ...env, QUARANTINE_BUCKET: 'on-failure-bucket' }, sqs, eventBridge, s3 })).toBe(0);
    expect(lines(t.out).at(-1)).toMatchObject({ done: 1, notDone: 0 });
    expect(puts.map((p) => p.Bucket)).toEqual(['on-failure-bucket']);
    const [pointer] = services.quarantined().map((b) => JSON.parse(b) as { eventID: string; claimCheck?: { key: string } });
    expect(pointer).toMatchObject({ eventID: big.eventID, claimCheck: { key: puts[0]!.Key } });
    expect(services.delivered).toHaveLength(1);
  });

  it('--file: publishes the records of a local on-failure file, --dry-run prints the same entries first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redrive-cli-'));
    const records = [insert(nodeImage(10)), insert(nodeImage(11))];
    const file = join(dir, 'on-failure.jsonl');
    // The local pipeline's line form (`records`) and Lambda's S3 form, one per line.
    writeFileSync(file, `${JSON.stringify({ version: '1.0', records: [records[0]] })}\n${s3Object([records[1]])}\n`);

    const dry = io();
    expect(await redriveCommand(['--file', file, '--dry-run', '--rate', '100'], dry.io, { env, sqs, eventBridge })).toBe(0);
    const entries = lines(dry.out);
    expect(entries.map((e) => e.DetailType)).toEqual(['compute_node.create', 'compute_node.create']);
    expect(services.delivered).toEqual([]);

    const real = io();
    const checkpoint = join(dir, 'cp.json');
    expect(await redriveCommand(['--file', file, '--rate', '100', '--checkpoint', checkpoint], real.io, { env, sqs, eventBridge })).toBe(0);
    expect(services.delivered.map((e) => JSON.stringify(e.detail))).toEqual(entries.map((e) => e.Detail));
    expect(lines(real.out).at(-1)).toMatchObject({ objects: 2, done: 2, records: 2 });
    expect(existsSync(checkpoint)).toBe(false);
  });

  it('--directory: skips objects marked done, resumes after an interruption from its checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redrive-dir-'));
    const store = new DirectoryOnFailureStore(join(dir, 'bucket'));
    for (let n = 0; n < 3; n++) await store.put(`aws/lambda/m/shard/2026/12/01/obj-${n}`, s3Object([insert(nodeImage(20 + n))]));
    await store.setMark('aws/lambda/m/shard/2026/12/01/obj-0', 'done');
    const checkpoint = join(dir, 'cp.json');

    const abort = new AbortController();
    const first = io();
    let calls = 0;
    const stopAfterOne = { ...first.io, stderr: (s: string) => { first.err.push(s); if (s.startsWith('redrive ') && ++calls === 1) abort.abort(); } };
    const status = await redriveCommand(['--directory', join(dir, 'bucket'), '--rate', '100', '--checkpoint', checkpoint], stopAfterOne, { env, sqs, eventBridge, signal: abort.signal, progressIntervalMs: 0 });
    expect(status).toBe(1);
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { lastKey: string };
    expect(saved.lastKey).toBe('aws/lambda/m/shard/2026/12/01/obj-0');

    const second = io();
    expect(await redriveCommand(['--directory', join(dir, 'bucket'), '--rate', '100', '--checkpoint', checkpoint], second.io, { env, sqs, eventBridge })).toBe(0);
    expect(second.err.join('')).toContain('resuming after aws/lambda/m/shard/2026/12/01/obj-0');
    expect(lines(second.out).at(-1)).toMatchObject({ done: 2, alreadyDone: 1 });
    expect(services.delivered).toHaveLength(2);
    expect(await store.mark('aws/lambda/m/shard/2026/12/01/obj-2')).toBe('done');
  });

  it("leaves the quarantine's claim-checked messages (quarantine/) in the same bucket alone: not redriven, not marked", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redrive-dir-'));
    const store = new DirectoryOnFailureStore(join(dir, 'bucket'));
    await store.put('aws/lambda/m/shard/2026/12/01/obj-0', s3Object([insert(nodeImage(30))]));
    await store.put('quarantine/5f1d.json', JSON.stringify({ reason: 'invalid_record', record: insert(nodeImage(31)) }));
    const t = io();
    expect(await redriveCommand(['--directory', join(dir, 'bucket'), '--rate', '100', '--checkpoint', join(dir, 'cp.json')], t.io, { env, sqs, eventBridge })).toBe(0);
    expect(lines(t.out).at(-1)).toMatchObject({ objects: 1, done: 1, notDone: 0 });
    expect(await store.mark('quarantine/5f1d.json')).toBeUndefined();
    expect(services.delivered).toHaveLength(1);
  });
});

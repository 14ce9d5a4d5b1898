/**
 * The drift check: the pure comparison (table image vs read-model item, through the notifier's
 * encoder) and `cli drift` against DynamoDB Local (a compute node table and an indexer table
 * fed by the real indexer), with its lines and exit status.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createComputeNodeTable } from '../../local/compute-node-table.js';
import { createIndexerTable } from '../../local/indexer-table.js';
import { dynamoDbLocalForFile } from '../support/dynamodb-local-for-file.js';
import { itemOf } from '../../functions/indexer/apply.js';
import { createDriftComparer, DEFAULT_DRIFT_FIELDS, parseDriftFields, parseDriftResolutions } from '../../functions/indexer/drift.js';
import { readNotification } from '../../functions/indexer/notification.js';
import { writeNotification } from '../../functions/indexer/store.js';
import { driftCommand } from '../../cli/drift.js';
import { builder, envelope, uuidOf } from './history.js';
import { insert, modify, nodeImage, remove, type Image } from '../support/records.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';

const notified = (r: ReturnType<typeof insert>) => {
  const o = builder(r as StreamRecord);
  if (o.kind !== 'notify') throw new Error(o.kind);
  return readNotification(envelope(o.notification.eventType, o.notification.entry.Detail!));
};

describe('comparing a node', () => {
  const compare = createDriftComparer(DEFAULT_DRIFT_FIELDS);

  it('compares the spec\'s watched fields and the indexer\'s read fields by default', () => {
    expect(DEFAULT_DRIFT_FIELDS).toEqual(expect.arrayContaining(['vcpus_used', 'running_vms', 'memory_mb_used', 'free_ram_mb', 'host', 'hypervisor_type']));
    expect(DEFAULT_DRIFT_FIELDS).not.toContain('cpu_info');
    expect(() => parseDriftFields('vcpus,bogus')).toThrow(/unknown field 'bogus'/);
  });

  it('agrees on an item the read model holds as the notifier sent it', () => {
    const image = nodeImage(1, { hypervisor_hostname: { S: 'hôte-ü.example.org' } });
    expect(compare(uuidOf(1), image, itemOf(notified(insert(image))))).toBeUndefined();
    expect(compare(uuidOf(1), undefined, undefined)).toBeUndefined();
    expect(compare(uuidOf(1), { ...image, deleted: { N: '1' } }, itemOf(notified(remove(image))))).toBeUndefined();
  });

  it('names each stale field with both values, and ignores fields it does not compare', () => {
    const before = nodeImage(2);
    const after = nodeImage(2, { memory_mb_used: { N: '16000' }, free_ram_mb: { N: '384' }, host: { S: 'moved-host' }, cpu_info: { S: '{"x":1}' } });
    expect(compare(uuidOf(2), after, itemOf(notified(insert(before))))).toEqual({
      kind: 'stale',
      uuid: uuidOf(2),
      fields: [
        { field: 'host', readModel: '"compute-2"', table: '"moved-host"' },
        { field: 'memory_mb_used', readModel: '4096', table: '16000' },
        { field: 'free_ram_mb', readModel: '12288', table: '384' },
      ],
    });
    expect(createDriftComparer(['vcpus'])(uuidOf(2), after, itemOf(notified(insert(before))))).toBeUndefined();
  });

  it('reports a field read at a resolution as stale only when it is that far or further from the table', () => {
    const before = nodeImage(4, { free_ram_mb: { N: '12288' }, memory_mb_used: { N: '4096' } });
    const held = itemOf(notified(insert(before)));
    const within = createDriftComparer(DEFAULT_DRIFT_FIELDS, { free_ram_mb: 1024, memory_mb_used: 1024 });
    // 1023 MB apart: within; 1024 apart: stale, with the resolution named.
    expect(within(uuidOf(4), nodeImage(4, { free_ram_mb: { N: '11265' }, memory_mb_used: { N: '5119' } }), held)).toBeUndefined();
    expect(within(uuidOf(4), nodeImage(4, { free_ram_mb: { N: '13312' }, memory_mb_used: { N: '5119' } }), held)).toEqual({
      kind: 'stale',
      uuid: uuidOf(4),
      fields: [{ field: 'free_ram_mb', readModel: '12288', table: '13312', resolution: 1024 }],
    });
    // null against a number is stale whatever the resolution; exact comparison still sees 1 MB.
    expect(within(uuidOf(4), nodeImage(4, { free_ram_mb: { NULL: true } }), held)).toMatchObject({ kind: 'stale', fields: [{ field: 'free_ram_mb', table: 'null' }] });
    expect(compare(uuidOf(4), nodeImage(4, { free_ram_mb: { N: '12287' } }), held)).toMatchObject({ kind: 'stale', fields: [{ field: 'free_ram_mb' }] });
    expect(parseDriftResolutions('free_ram_mb=1024, memory_mb_used=2048')).toEqual({ free_ram_mb: 1024, memory_mb_used: 2048 });
    expect(parseDriftResolutions('exact')).toEqual({});
    expect(() => parseDriftResolutions('host=3')).toThrow(/resolution 'host=3': field 'host' is not an integer payload field/);
    expect(() => parseDriftResolutions('free_ram_mb=0')).toThrow(/must be a whole number of at least 1/);
  });

  it('reports missing, extra (removed or soft-deleted) and invalid nodes', () => {
    const image = nodeImage(3);
    const live = itemOf(notified(insert(image)));
    expect(compare(uuidOf(3), image, undefined)).toEqual({ kind: 'missing', uuid: uuidOf(3) });
    expect(compare(uuidOf(3), image, itemOf(notified(remove(image))))).toEqual({ kind: 'missing', uuid: uuidOf(3) });
    expect(compare(uuidOf(3), undefined, live)).toEqual({ kind: 'extra', uuid: uuidOf(3), table: 'absent' });
    expect(compare(uuidOf(3), { ...image, deleted: { N: '3' } }, live)).toEqual({ kind: 'extra', uuid: uuidOf(3), table: 'soft-deleted' });
    expect(compare(uuidOf(3), { ...image, vcpus: { S: 'eight' } }, live)).toMatchObject({ kind: 'invalid', issues: [expect.stringMatching(/^vcpus: /)] });
  });
});

describe('cli drift on DynamoDB Local', () => {
  const local = dynamoDbLocalForFile({ maxAttempts: 3 });
  beforeAll(async () => {
    await createComputeNodeTable(local.dynamodb, 'nodes');
    await createIndexerTable(local.dynamodb, 'index');
  });

  const put = (image: Image) => local.dynamodb.send(new PutItemCommand({ TableName: 'nodes', Item: image as unknown as Record<string, AttributeValue> }));
  async function drift(args: string[] = []) {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), readStdin: async () => '' };
    const code = await driftCommand(['--table', 'nodes', '--indexer-table', 'index', ...args], io, { dynamodb: local.dynamodb, env: {} });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('prints every differing node and exits 1; exits 0 once the read model agrees', async () => {
    const same = nodeImage(10);
    const moved = nodeImage(11);
    const movedNow = nodeImage(11, { memory_mb_used: { N: '16000' }, free_ram_mb: { N: '384' }, host: { S: 'moved-host' } });
    const gone = nodeImage(12);
    const unseen = nodeImage(13);
    for (const image of [same, movedNow, unseen]) await put(image);
    for (const image of [same, moved, gone]) await writeNotification(local.dynamodb, 'index', notified(insert(image)));

    const first = await drift();
    expect(first.code).toBe(1);
    expect(first.out).toContain(`stale    ${uuidOf(11)}  host: read model "compute-11", table "moved-host"; memory_mb_used: read model 4096, table 16000 (1024 or more apart); free_ram_mb: read model 12288, table 384 (1024 or more apart)`);
    expect(first.out).toContain(`extra    ${uuidOf(12)}  live in the read model, not in the table`);
    expect(first.out).toContain(`missing  ${uuidOf(13)}  live in the table, not in the read model`);
    expect(first.out).not.toContain(uuidOf(10));
    expect(first.out).toMatch(/drift: 3 node\(s\) differ \(missing 1, extra 1, stale 1, invalid 0\); table: 3 items, 3 live; read model: 3 nodes, 3 live/);
    // Compared on vcpus only, the moved node agrees.
    expect((await drift(['--fields', 'vcpus'])).out).not.toContain(uuidOf(11));

    await writeNotification(local.dynamodb, 'index', notified(modify(moved, movedNow, { sequence: '999999999999999999999' })));
    await writeNotification(local.dynamodb, 'index', notified(remove(gone, { sequence: '999999999999999999998' })));
    await writeNotification(local.dynamodb, 'index', notified(insert(unseen)));
    const second = await drift();
    expect(second.out).toMatch(/^drift: no drift; table: 3 items, 3 live; read model: 4 nodes, 3 live/);
    expect(second.code).toBe(0);
  });

  it("compares within the reference indexer's resolution by default (free RAM within 1 GB), exactly with --resolutions exact", async () => {
    const held = nodeImage(20);
    await writeNotification(local.dynamodb, 'index', notified(insert(held)));
    await put(nodeImage(20, { memory_mb_used: { N: '5000' }, free_ram_mb: { N: '11384' } }));
    const within = await drift();
    expect(within.out).not.toContain(uuidOf(20));
    expect(within.out).toContain('within resolution: memory_mb_used 1024, free_ram_mb 1024');
    const exact = await drift(['--resolutions', 'exact']);
    expect(exact.out).toContain(`stale    ${uuidOf(20)}  memory_mb_used: read model 4096, table 5000; free_ram_mb: read model 12288, table 11384`);
    expect(exact.code).toBe(1);
    // Without the flag, the notifier's WATCHED_FIELD_RESOLUTIONS when set: 904 MB apart is past 100.
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, readStdin: async () => '' };
    const env = { WATCHED_FIELD_RESOLUTIONS: 'memory_mb_used=100' };
    expect(await driftCommand(['--table', 'nodes', '--indexer-table', 'index'], io, { dynamodb: local.dynamodb, env })).toBe(1);
    expect(out.join('')).toContain(`stale    ${uuidOf(20)}  memory_mb_used: read model 4096, table 5000 (100 or more apart); free_ram_mb: read model 12288, table 11384`);
    const bad = await drift(['--resolutions', 'free_ram_mb=-1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/resolution 'free_ram_mb=-1': the resolution of 'free_ram_mb' must be a whole number of at least 1/);
  });

  it('names a missing setting or an unknown field (exit 2), and a DynamoDB failure (exit 3)', async () => {
    const io = { stdout: () => {}, stderr: (t: string) => void errs.push(t), readStdin: async () => '' };
    const errs: string[] = [];
    expect(await driftCommand(['--indexer-table', 'index'], io, { dynamodb: local.dynamodb, env: {} })).toBe(2);
    expect(errs.join('')).toMatch(/compute node table is not set: --table or TABLE_NAME/);
    expect((await drift(['--fields', 'nope'])).code).toBe(2);
    const missing = await driftCommand(['--table', 'no-such-table', '--indexer-table', 'index'], io, { dynamodb: local.dynamodb, env: {} });
    expect(missing).toBe(3);
    expect(errs.join('')).toMatch(/drift check failed: ResourceNotFoundException/);
  });
});

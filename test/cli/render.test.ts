import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderCommand } from '../../cli/render.js';
import { loadVectors } from '../support/nova-vectors.js';
import { insert, modify, nodeImage } from '../support/records.js';

function io(stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => stdin } };
}

const lines = (chunks: string[]) => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cli render', () => {
  const vector = loadVectors().get('01_typical_libvirt_qemu.json')!;
  const event = { Records: vector.cases.map((c) => c.record) };

  it('prints one entry per notification with the exact Detail text, exit 0', async () => {
    const t = io(JSON.stringify(event));
    const status = await renderCommand(['-', '--publisher-host', 'reference-conf-host', '--bus-name', 'my-bus'], t.io, {});
    expect(status).toBe(0);
    const entries = lines(t.out);
    expect(entries.map((e) => e.DetailType)).toEqual(['compute_node.create', 'compute_node.update', 'compute_node.delete']);
    expect(entries[0]).toMatchObject({ Source: 'openstack.nova', EventBusName: 'my-bus', Time: '2026-11-26T19:06:01.000Z' });
    const expected = vector.cases[0]!.expect[0] as { payload_json: string };
    expect(entries[0]!.Detail as string).toContain(`"payload":${expected.payload_json},`);
    // The vector's records come from stream 2026-11-26T00:00:00.000; change block version 2, keys in order.
    const update = JSON.parse(entries[1]!.Detail as string) as { change: Record<string, unknown> };
    expect(Object.keys(update.change)).toEqual(['sequence_number', 'epoch', 'changed_fields', 'origin', 'cause', 'resync_run']);
    expect(update.change).toMatchObject({ epoch: '2026-11-26T00:00:00.000', origin: 'stream', resync_run: null });
  });

  it("prints a record's stream label as the epoch, and a marker-only change as a resync notification", async () => {
    const before = nodeImage(6);
    const t = io(JSON.stringify({ Records: [modify(before, { ...before, resync_run: { S: 'run-1' } }, { sequence: '000000000000000000777' })] }));
    expect(await renderCommand(['-'], t.io, {})).toBe(0);
    const [entry] = lines(t.out);
    expect(JSON.parse(entry!.Detail as string).change).toEqual({
      sequence_number: '000000000000000000777',
      epoch: '2026-11-26T00:00:00.000',
      changed_fields: [],
      origin: 'resync',
      cause: 'modify',
      resync_run: 'run-1',
    });
  });

  it('reads a single record too, and takes configuration from the environment', async () => {
    const t = io(JSON.stringify(insert(nodeImage(3, { host: { NULL: true } }))));
    expect(await renderCommand(['-'], t.io, { PUBLISHER_HOST_FALLBACK: 'from-env', EVENT_SOURCE: 'my.source' })).toBe(0);
    const [entry] = lines(t.out);
    expect(entry!.Source).toBe('my.source');
    expect(JSON.parse(entry!.Detail as string).publisher_id).toBe('nova-compute:from-env');
  });

  it('names each rejected record and its fields on stderr, exit 1, and still prints the rest', async () => {
    const bad = insert(nodeImage(4, { vcpus: { N: '2.5' } }));
    const t = io(JSON.stringify({ Records: [bad, insert(nodeImage(5))] }));
    expect(await renderCommand(['-'], t.io, {})).toBe(1);
    expect(lines(t.out)).toHaveLength(1);
    expect(lines(t.err.slice(0, -1))).toEqual([{ rejected: true, eventID: bad.eventID, issues: [{ field: 'vcpus', value: { N: '2.5' }, rule: 'must be an integer, not a fraction' }] }]);
    expect(t.err.at(-1)).toBe('render: 2 records in, 1 notifications out, 0 suppressed, 0 ignored, 1 rejected\n');
  });

  it('exits 2 for a configuration error, naming the field', async () => {
    const t = io('{}');
    expect(await renderCommand(['-', '--watched-fields', 'vcpus,nope'], t.io, {})).toBe(2);
    expect(t.err.join('')).toMatch(/unknown field 'nope'/);
  });

  it('renders at the watched fields\' resolutions (flag or WATCHED_FIELD_RESOLUTIONS): a move within the bucket renders nothing', async () => {
    const before = nodeImage(6, { free_ram_mb: { N: '12288' } });
    const within = JSON.stringify(modify(before, nodeImage(6, { free_ram_mb: { N: '13000' } })));
    const exact = io(within);
    expect(await renderCommand(['-', '--watched-fields', 'free_ram_mb'], exact.io, {})).toBe(0);
    expect(lines(exact.out)).toHaveLength(1);
    const coarse = io(within);
    expect(await renderCommand(['-', '--watched-fields', 'free_ram_mb', '--watched-field-resolutions', 'free_ram_mb=1024'], coarse.io, {})).toBe(0);
    expect(lines(coarse.out)).toHaveLength(0);
    const fromEnv = io(within);
    expect(await renderCommand(['-'], fromEnv.io, { WATCHED_FIELDS: 'free_ram_mb', WATCHED_FIELD_RESOLUTIONS: 'free_ram_mb=1024' })).toBe(0);
    expect(lines(fromEnv.out)).toHaveLength(0);
    const bad = io(within);
    expect(await renderCommand(['-', '--watched-fields', 'free_ram_mb', '--watched-field-resolutions', 'free_ram_mb=0'], bad.io, {})).toBe(2);
    expect(bad.err.join('')).toMatch(/WATCHED_FIELD_RESOLUTIONS: the resolution of 'free_ram_mb' must be a whole number of at least 1/);
  });

  it('runs as `npm run --silent cli -- render FILE`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'render-'));
    const file = join(dir, 'event.json');
    writeFileSync(file, JSON.stringify(event));
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'cli', '--', 'render', file, '--publisher-host', 'reference-conf-host'], {
      cwd: join(import.meta.dirname, '..', '..'),
    });
    expect(lines([stdout]).map((e) => e.DetailType)).toEqual(['compute_node.create', 'compute_node.update', 'compute_node.delete']);
  });
});

/**
 * `cli redrive`'s checkpoint is bad input like any other: a file that is not JSON, or not a
 * redrive checkpoint (another tool's file, a hand edit, a half-written one), gets one line
 * naming the file, what is wrong and what to do (exit 2), and nothing is redriven: no stack
 * trace, no TypeError from a missing field, no key of the wrong type handed to the listing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redriveCommand } from '../../cli/redrive.js';
import { DirectoryOnFailureStore } from '../../local/on-failure-directory.js';
import { insert, nodeImage } from '../support/records.js';
import { s3Object } from './support.js';

/** Clients that fail the test if the command reaches them: a bad checkpoint must stop it first. */
const unreachable = {
  send: async () => {
    throw new Error('the command must not call AWS with a bad checkpoint');
  },
  destroy: () => {},
};

async function withCheckpoint(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'redrive-cp-'));
  const bucket = join(dir, 'bucket');
  const store = new DirectoryOnFailureStore(bucket);
  await store.put('aws/lambda/m/shard/2026/12/01/obj-0', s3Object([insert(nodeImage(1))]));
  const checkpoint = join(dir, 'cp.json');
  const written = text.replaceAll('SOURCE', bucket);
  writeFileSync(checkpoint, written);
  const out: string[] = [];
  const err: string[] = [];
  const status = await redriveCommand(
    ['--directory', bucket, '--rate', '100', '--checkpoint', checkpoint],
    { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '' },
    { env: { EVENT_BUS_NAME: 'bus', QUARANTINE_QUEUE_URL: 'http://127.0.0.1:1/q' }, sqs: unreachable as never, eventBridge: unreachable as never },
  );
  return { status, out, err: err.join(''), checkpoint, mark: await store.mark('aws/lambda/m/shard/2026/12/01/obj-0'), written };
}

describe('cli redrive: a checkpoint it cannot resume from', () => {
  for (const [what, text, why] of [
    ['not JSON', '{"source": "SOURCE", "lastKey": ', /not JSON/],
    ['lastKey not a key', '{"source": "SOURCE", "lastKey": 5, "counts": {"objects": 1, "done": 1, "alreadyDone": 0, "notDone": 0, "records": 1}}', /lastKey/],
    ['no counts', '{"source": "SOURCE", "lastKey": "aws/lambda/m/shard/2026/12/01/obj-0"}', /counts/],
    ['an array', '[1, 2]', /not a redrive checkpoint/],
  ] as const) {
    it(`${what}: one line naming the file and --restart, exit 2, nothing redriven, the file kept`, async () => {
      const r = await withCheckpoint(text);
      expect(r.status).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(`cannot resume from ${r.checkpoint}`);
      expect(r.err).toMatch(why);
      expect(r.err).toContain('--restart');
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out).toEqual([]);
      expect(r.mark).toBeUndefined();
      expect(readFileSync(r.checkpoint, 'utf8')).toBe(r.written);
    });
  }
});

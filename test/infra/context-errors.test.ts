/**
 * A bad context value, in cdk.json or given with `cdk synth -c key=value`, ends as one line
 * that names the key as the user wrote it and where it came from, with a non-zero exit: no
 * stack trace, no environment variable's name, no "received NaN".
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppContextError, parseAppContext } from '../../infra/context.js';

const problem = (context: Record<string, unknown>): string => {
  try {
    parseAppContext(context);
  } catch (error) {
    expect(error).toBeInstanceOf(AppContextError);
    return (error as Error).message;
  }
  throw new Error('expected the context to be refused');
};

describe('context errors name the key as written', () => {
  it('-c batchSize=0: the key, the value, the rule, and -c (cdk.json says 100)', () => {
    expect(problem({ batchSize: '0' })).toMatch(/^invalid context: batchSize: .*1 \(-c batchSize=0\)$/);
  });

  it('-c timeoutSeconds=1: under the 3 s the notifier needs to publish anything', () => {
    expect(problem({ timeoutSeconds: '1' })).toMatch(/^invalid context: timeoutSeconds: .*3 \(-c timeoutSeconds=1\)$/);
    expect(parseAppContext({ timeoutSeconds: '3' }).timeoutSeconds).toBe(3);
  });

  it('-c batchSize=abc: must be a number, not "received NaN"', () => {
    const message = problem({ batchSize: 'abc' });
    expect(message).toMatch(/batchSize: must be a number \(-c batchSize=abc\)/);
    expect(message).not.toMatch(/NaN/);
  });

  it('-c watchedFields=bogus: names the context key and the field, not WATCHED_FIELDS', () => {
    const message = problem({ watchedFields: 'bogus' });
    expect(message).toMatch(/watchedFields: unknown field 'bogus' .*\(-c watchedFields=bogus\)/);
    expect(message).not.toMatch(/WATCHED_FIELDS/);
  });

  it('cdk synth -c batchSize=0 (the app as cdk runs it): one line on stderr, exit 1, no stack trace', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'context-errors-'));
    const r = await new Promise<{ code: number; err: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'infra/app.ts'], { env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ batchSize: '0' }) }, timeout: 60_000 }, (error, _out, err) =>
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, err }),
      );
    });
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/^\s+at |\^$/m);
    expect(r.err.trimEnd().split('\n')).toEqual([expect.stringMatching(/^invalid context: batchSize: .*\(-c batchSize=0\)$/)]);
  });
});

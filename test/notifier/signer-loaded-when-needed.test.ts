/**
 * The SigV4a signer is loaded only when a global endpoint is configured (issue 22: the cold start
 * does not grow with the option off). The handler is bundled as the stack deploys it without the
 * option (the signer left out of the bundle) into a directory with no node_modules, and imported
 * in a fresh `node`: without GLOBAL_ENDPOINT_ID it starts, so nothing asked for the signer; with
 * it, the start-up asks for the signer, which that directory cannot supply. No timing here: the
 * figures are in `npm run bench` (§5b).
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, coldStartDir } from '../../bench/cold-start.js';

let dir: string;

beforeAll(async () => {
  dir = coldStartDir(false);
  await bundleHandler({ externalSdk: false, sourceMaps: false, outfile: join(dir, 'handler.mjs') });
  writeFileSync(join(dir, 'import-only.mjs'), "const mod = await import(process.argv[2]); process.stdout.write('handler:' + typeof mod.handler);");
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(extraEnv: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    EVENT_BUS_NAME: 'nova-notifications',
    QUARANTINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111111111111/quarantine',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...extraEnv,
  };
  const r = spawnSync(process.execPath, ['--no-warnings', join(dir, 'import-only.mjs'), join(dir, 'handler.mjs')], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the SigV4a signer, loaded only when needed', () => {
  it('option off: the deployed bundle starts without the signer anywhere to load it from', () => {
    const r = start({});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('handler:function');
    expect(r.status).toBe(0);
  });

  it('option on: the same start-up asks for @aws-sdk/signature-v4a', () => {
    const r = start({ GLOBAL_ENDPOINT_ID: 'abcde.veo' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("'@aws-sdk/signature-v4a'");
  });
});

/**
 * The CLI as a user runs it (a process: `node --import tsx cli/main.ts`, `smoke/main.ts`):
 * `-h` and `--help` print the usage and exit 0 for every command; `cli --help` lists the
 * commands; and bad input (an unknown command or flag, a closed port, no region, `--local`
 * with no `npm start`) ends as one line on stderr with a non-zero exit, never a stack trace
 * nor the AWS SDK's NodeVersionSupport warning.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../local/free-port.js';

const COMMANDS = ['render', 'test-pattern', 'query', 'drift', 'resync', 'redrive', 'quarantine'] as const;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

const emptyDir = mkdtempSync(join(tmpdir(), 'cli-no-local-'));

/** The environment of a newcomer's shell: no AWS settings at all, no npm start running. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !['QUARANTINE_QUEUE_URL', 'TABLE_NAME', 'INDEXER_TABLE_NAME', 'EVENT_BUS_NAME'].includes(k)) env[k] = v;
  // The credentials file and config must not supply a region either.
  return { ...env, AWS_CONFIG_FILE: join(emptyDir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(emptyDir, 'none'), LOCAL_RUN_DIR: emptyDir, ...extra };
}

function run(entry: 'cli/main.ts' | 'smoke/main.ts' | 'local/start.ts', args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', entry, ...args], { env: bareEnv(extraEnv), timeout: 60_000 }, (error, out, err) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out, err });
    });
  });
}
const cli = (...args: string[]) => run('cli/main.ts', args);

/** One line on stderr, nothing that looks like a stack frame or a Node warning. */
function expectOneLine(r: Run, pattern: RegExp): void {
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err).not.toMatch(/Warning/);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(pattern);
}

describe('help', () => {
  it('cli --help and -h list every command with one line each, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await cli(flag);
      expect(r).toMatchObject({ code: 0, err: '' });
      for (const name of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${name}\\s{2,}\\S.*$`, 'm'));
    }
  });

  it.each(COMMANDS.flatMap((c) => ['-h', '--help'].map((flag) => [c, flag] as const)))('%s %s prints its usage on stdout, exit 0, nothing on stderr', async (command, flag) => {
    const r = await cli(command, flag);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(new RegExp(`^usage: ${command}\\b`));
  });

  it.each(['-h', '--help'])('smoke %s prints its usage, exit 0', async (flag) => {
    const r = await run('smoke/main.ts', [flag]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^usage: npm run smoke/);
  });
});

describe('bad input: one line, a non-zero exit, no stack trace', () => {
  let closedPort: number;
  let onFailureFile: string;
  beforeAll(async () => {
    // Nothing listens here (the port was free a moment ago and nobody is told of it).
    closedPort = await freeLoopbackPort();
    onFailureFile = join(emptyDir, 'on-failure.jsonl');
    writeFileSync(onFailureFile, '{}\n');
  });

  it('an unknown command says so and where the commands are listed', async () => {
    const r = await cli('bogus');
    expect(r.code).toBe(2);
    expectOneLine(r, /unknown command 'bogus'.*--help/);
  });

  it.each([['render', 'x.json'], ['query'], ['drift'], ['resync'], ['redrive'], ['quarantine', 'summary'], ['test-pattern', 'samples/pattern.json']])('%s with an unknown flag: one line naming it, pointing to --help', async (...args) => {
    const r = await cli(...args, '--bogus');
    expect(r.code).toBe(2);
    expectOneLine(r, /'--bogus'.*--help/);
    expect(r.err).not.toMatch(/To specify a positional argument/);
  });

  it('npm start with an unknown flag or a bad value: one line, exit 2, before starting anything', async () => {
    for (const [args, pattern] of [[['--bogus'], /^npm start: Unknown option '--bogus'; npm start -- --help/], [['--nodes', '0'], /^npm start: --nodes must be a number ≥ 1, got '0'; npm start -- --help/]] as const) {
      const r = await run('local/start.ts', [...args]);
      expect(r.code).toBe(2);
      expectOneLine(r, pattern);
    }
  });

  it('smoke with an unknown flag: one line', async () => {
    const r = await run('smoke/main.ts', ['--bogus']);
    expect(r.code).toBe(2);
    expectOneLine(r, /'--bogus'.*npm run smoke -- --help/);
  });

  it('a closed port (ECONNREFUSED) for each command that calls AWS', async () => {
    const at = `http://127.0.0.1:${closedPort}`;
    const cases = [
      ['quarantine', 'summary', '--queue-url', `${at}/000000000000/q`, '--sqs-endpoint', at],
      ['query', '--table', 'idx', '--dynamodb-endpoint', at],
      ['drift', '--table', 't', '--indexer-table', 'idx', '--dynamodb-endpoint', at],
      ['resync', '--table', 't', '--bus-name', 'b', '--dynamodb-endpoint', at],
    ];
    for (const args of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expectOneLine(r, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\)`));
    }
  });

  it('no region: says what to set, or --local', async () => {
    const cases: [string, string[]][] = [
      ['cli/main.ts', ['quarantine', 'summary', '--queue-url', 'https://sqs.us-east-1.amazonaws.com/000000000000/q']],
      ['cli/main.ts', ['query', '--table', 'idx']],
      ['smoke/main.ts', []],
    ];
    for (const [entry, args] of cases) {
      const r = await run(entry as 'cli/main.ts', args);
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expectOneLine(r, /no AWS region: set AWS_REGION \(or give --region\), or add --local/);
    }
  });

  it('--local with no npm start running: one line saying to start it', async () => {
    for (const [entry, args] of [['cli/main.ts', ['quarantine', 'summary', '--local']], ['cli/main.ts', ['drift', '--local']], ['smoke/main.ts', ['--local']]] as const) {
      const r = await run(entry, [...args]);
      expect(r.code).toBe(2);
      expectOneLine(r, /--local: no running npm start found .*npm start/);
    }
  });

  it('redrive --dry-run needs no quarantine queue', async () => {
    const r = await cli('redrive', '--file', onFailureFile, '--dry-run');
    expect(r.err).not.toMatch(/QUARANTINE_QUEUE_URL|ConfigurationError|^\s+at /m);
    // It read the file: the object is unreadable (an on-failure record without a payload), and the run says so.
    expect(r.err).toMatch(/"dryRun":true/);
  });
});

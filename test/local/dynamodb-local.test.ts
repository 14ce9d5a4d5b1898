/**
 * DynamoDB Local's lifecycle: it answers on loopback once started, and no Java process
 * outlives its owner: not after stop(), not after the owner is killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { JAVA_INSTALL_HINT, JavaNotFoundError, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';
import { PROJECT_ROOT } from '../../local/stack-template.js';
import { waitFor } from './support.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const started: DynamoDbLocal[] = [];
afterAll(async () => {
  await Promise.all(started.map((d) => d.stop()));
});

describe('DynamoDB Local', () => {
  it('answers on 127.0.0.1 once started, and its Java process is gone after stop()', async () => {
    const ddb = await startDynamoDbLocal();
    started.push(ddb);
    expect(new URL(ddb.endpoint).hostname).toBe('127.0.0.1');
    const client = new DynamoDBClient(ddb.clientConfig);
    await expect(client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
    client.destroy();
    expect(alive(ddb.pid)).toBe(true);
    await ddb.stop();
    expect(alive(ddb.pid)).toBe(false);
  });

  it('says how to install Java when it is missing', async () => {
    const error = await startDynamoDbLocal({ java: '/nonexistent/bin/java' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JavaNotFoundError);
    expect((error as Error).message).toContain(JAVA_INSTALL_HINT);
  });

  it('leaves no Java process behind when its owner is killed with SIGKILL', async () => {
    // An owner process that starts DynamoDB Local, prints the Java pid, and waits.
    const script = `import { startDynamoDbLocal } from './local/dynamodb-local.ts';
const d = await startDynamoDbLocal();
process.stdout.write('PID ' + d.pid + '\\n');
setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    owner.stdout.on('data', (c: Buffer) => (output += c.toString()));
    owner.stderr.on('data', (c: Buffer) => (output += c.toString()));
    let pid: number | undefined;
    try {
      pid = Number(await waitFor(() => /PID (\d+)/.exec(output)?.[1], `the owner's Java pid (output so far: ${output})`, 45_000));
      expect(alive(pid)).toBe(true);
      owner.kill('SIGKILL');
      await waitFor(() => !alive(pid!), 'the Java process to be gone after its owner was killed', 15_000);
    } finally {
      owner.kill('SIGKILL');
      // Should this test fail, it still leaves nothing running.
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

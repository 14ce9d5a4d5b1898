/**
 * `npm run bench:compare -- <other checkout> [--mix creates] [--delay 20] [--rounds 60]`: the
 * notifier of another checkout (A) against this one (B), both in one process on the stub
 * transport, 1,000-record batches in alternating blocks. On a shared machine two separate runs
 * of the same code differ by 30 % and more; in one process, in turns, the load weighs on both
 * alike and their ratio holds to a few per cent. Prints the median CPU per record of each and
 * B/A (below 1: this checkout is cheaper), and the median wall time of a batch.
 *
 * The other checkout needs the same dependencies: `git worktree add /tmp/base HEAD~1` and a
 * symlink of this checkout's node_modules into it will do.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { parseArgs } from 'node:util';
import { BENCH_ENV, CONTEXT, median, sunk, timed, type Handle } from './harness.js';
import { CREATES_ONLY, REALISTIC_MIX, streamEvent } from './record-mix.js';
import { StubTransport } from './transport.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { mix: { type: 'string', default: 'mixed' }, delay: { type: 'string', default: '0' }, rounds: { type: 'string', default: '60' } },
});
const other = positionals[0];
if (other === undefined) {
  process.stderr.write('usage: npm run bench:compare -- <other checkout> [--mix mixed|creates] [--delay ms] [--rounds n]\n');
  process.exit(2);
}
const roots = { A: resolve(other), B: resolve(import.meta.dirname, '..') };
const event = streamEvent(1000, values.mix === 'creates' ? CREATES_ONLY : REALISTIC_MIX);
const rounds = Number(values.rounds);
const warmupRounds = Math.min(10, Math.floor(rounds / 3));

async function notifierOf(root: string): Promise<Handle> {
  const url = (p: string) => pathToFileURL(resolve(root, p)).href;
  const { loadConfig } = (await import(url('functions/notifier/config.ts'))) as typeof import('../functions/notifier/config.js');
  const { createNotifier } = (await import(url('functions/notifier/notifier.ts'))) as typeof import('../functions/notifier/notifier.js');
  const { eventBridge, sqs } = new StubTransport({ putEventsDelayMs: Number(values.delay) }).clients();
  const logger = new Logger({ serviceName: 'hypervisor-notifier' });
  const metrics = new Metrics({ namespace: 'HypervisorNotifications', serviceName: 'hypervisor-notifier' });
  return createNotifier({ config: loadConfig({ ...BENCH_ENV }), eventBridge, sqs, logger, metrics });
}

const handlers = { A: await notifierOf(roots.A), B: await notifierOf(roots.B) };
const cpu = { A: [] as number[], B: [] as number[] };
const wall = { A: [] as number[], B: [] as number[] };
for (let r = 0; r < rounds; r++) {
  for (const k of ['A', 'B'] as const) {
    // Blocks of 5; the first of each pays for the garbage the other left, so it is not kept.
    for (let j = 0; j < 5; j++) {
      const s = await timed(() => sunk(() => handlers[k](event, CONTEXT)));
      if (r >= warmupRounds && j > 0) {
        cpu[k].push(s.cpuUs / event.Records.length);
        wall[k].push(s.wallUs / 1000);
      }
    }
  }
}
const a = median(cpu.A);
const b = median(cpu.B);
process.stdout.write(
  `A ${roots.A}\nB ${roots.B}\n${values.mix} batch of 1000, bus answering after ${values.delay} ms, ${cpu.A.length} batches each\n` +
    `CPU µs/record: A ${a.toFixed(2)}, B ${b.toFixed(2)}, B/A ${(b / a).toFixed(3)}\n` +
    `wall ms/batch: A ${median(wall.A).toFixed(1)}, B ${median(wall.B).toFixed(1)}\n`,
);

/**
 * `npm run smoke`: the smoke-command wired to the process. Ctrl-C (or SIGTERM, or a hang-up) stops the check
 * and lets its clean-up remove the test node, the rule and the queue; a second Ctrl-C exits
 * at once.
 */
import '../local/quiet-warnings.js';
import { processIo } from '../cli/cli-io.js';
import { runResolvingLocal } from '../cli/local-pipeline.js';
import { smokeCommand } from './smoke-command.js';

// A reader gone (a closed terminal, a dropped SSH session): what is printed is lost, and the
// write error must not end the process before its clean-up.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const abort = new AbortController();
let firstSignalAt = 0;
// SIGHUP too: a closed terminal or a dropped SSH session would otherwise end the process
// before its clean-up, leaving the rule and the queue for good.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    // npm and tsx forward the terminal's Ctrl-C: copies within a second are the same request.
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1_000) return;
      process.stderr.write('smoke: second signal, exiting without finishing the clean-up\n');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    process.stderr.write('smoke: interrupted, cleaning up (Ctrl-C again to exit at once) …\n');
    abort.abort();
  });
}

// --local: the table, bus and endpoints of a running npm start (.local/pipeline.json); any error as one line.
process.exitCode = await runResolvingLocal('smoke', process.argv.slice(2), processIo, (args, env) => smokeCommand(args, processIo, env, { signal: abort.signal }));

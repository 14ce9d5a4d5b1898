/**
 * `npm run smoke`: the smoke-command wired to the process. Ctrl-C (or SIGTERM) stops the check
 * and lets its clean-up remove the test node, the rule and the queue; a second Ctrl-C exits
 * at once.
 */
import { processIo } from '../cli/cli-io.js';
import { smokeCommand } from './smoke-command.js';

const abort = new AbortController();
let firstSignalAt = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
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

process.exitCode = await smokeCommand(process.argv.slice(2), processIo, process.env, { signal: abort.signal });

/**
 * `npm run --silent cli -- COMMAND ...`: the project's command line.
 *   render FILE|-                          the PutEvents entries the notifier would publish
 *   test-pattern PATTERN_FILE EVENT_FILE   whether an EventBridge pattern matches an event
 *   resync --table TABLE ...               refresh every live node through the stream (marker writes)
 *   query [--hypervisor-type T] ...        ask the reference indexer's read model
 *   redrive --bucket B|--directory D|--file F  run given-up batches through the notifier
 *   quarantine summary|show|redrive        the quarantine queue (counts, messages, redrive)
 *   drift --table T --indexer-table I      how the reference indexer's read model differs from the table
 */
import { processIo } from './cli-io.js';
import { driftCommand } from './drift.js';
import { quarantineCommand } from './quarantine.js';
import { queryCommand } from './query.js';
import { redriveCommand } from './redrive.js';
import { renderCommand } from './render.js';
import { resyncCommand } from './resync.js';
import { testPatternCommand } from './test-pattern.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  render: (args) => renderCommand(args, processIo),
  'test-pattern': (args) => testPatternCommand(args, processIo),
  resync: (args) => {
    // Ctrl-C stops after the marker write in flight and keeps the checkpoint, so a rerun resumes.
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    return resyncCommand(args, processIo, { signal: abort.signal });
  },
  query: (args) => queryCommand(args, processIo),
  redrive: (args) => {
    // Ctrl-C stops after the object in flight and keeps the checkpoint, so a rerun resumes.
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    return redriveCommand(args, processIo, { signal: abort.signal });
  },
  quarantine: (args) => quarantineCommand(args, processIo),
  drift: (args) => driftCommand(args, processIo),
};

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS[name];
if (command === undefined) {
  process.stderr.write(`usage: cli <${Object.keys(COMMANDS).join('|')}> ...\n`);
  process.exitCode = 2;
} else {
  process.exitCode = await command(args);
}

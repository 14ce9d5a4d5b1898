/**
 * `npm run --silent cli -- COMMAND ...`: the project's command line (`--help` lists the
 * commands; `COMMAND --help` gives each one's usage). `--local` points a command at the
 * pipeline a running `npm start` serves. Whatever goes wrong ends as one line on stderr and a
 * non-zero exit status, never a stack trace.
 */
import '../local/quiet-warnings.js';
import { processIo } from './cli-io.js';
import { driftCommand } from './drift.js';
import { LOCAL_FLAG_USAGE, runResolvingLocal } from './local-pipeline.js';
import { quarantineCommand } from './quarantine.js';
import { queryCommand } from './query.js';
import { redriveCommand } from './redrive.js';
import { renderCommand } from './render.js';
import { resyncCommand } from './resync.js';
import { testPatternCommand } from './test-pattern.js';
import { USAGE_ERROR } from './command-args.js';

type Env = Record<string, string | undefined>;

interface Command {
  /** One line: what the command does. */
  readonly summary: string;
  readonly run: (args: string[], env: Env) => Promise<number>;
}

/** A signal that Ctrl-C aborts: the command stops after the write in flight and keeps its checkpoint. */
function ctrlC(): AbortSignal {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  return abort.signal;
}

const COMMANDS: Record<string, Command> = {
  render: { summary: 'the events the notifier would publish for a stream event (no AWS calls)', run: (args, env) => renderCommand(args, processIo, env) },
  'test-pattern': { summary: 'whether an EventBridge pattern matches an event (true or false)', run: (args) => testPatternCommand(args, processIo) },
  query: { summary: "ask the reference indexer's read model which nodes have room", run: (args, env) => queryCommand(args, processIo, { env }) },
  drift: { summary: "how the reference indexer's read model differs from the table", run: (args, env) => driftCommand(args, processIo, { env }) },
  resync: { summary: 'refresh every live node through the stream (a full-state update each)', run: (args, env) => resyncCommand(args, processIo, { env, signal: ctrlC() }) },
  redrive: { summary: 'run the batches Lambda gave up on through the notifier', run: (args, env) => redriveCommand(args, processIo, { env, signal: ctrlC() }) },
  quarantine: { summary: 'the quarantine queue: summary, show, redrive', run: (args, env) => quarantineCommand(args, processIo, { env }) },
};

/** The top-level usage: every command with its one line. */
function commandList(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: npm run --silent cli -- COMMAND [--help] ...',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    `  ${LOCAL_FLAG_USAGE}`,
    '  COMMAND --help (or -h) prints its usage. The deployment check is npm run smoke -- --help.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    processIo.stdout(commandList() + '\n');
    return 0;
  }
  if (name === undefined) {
    processIo.stderr(commandList() + '\n');
    return USAGE_ERROR;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    processIo.stderr(`unknown command '${name}': npm run --silent cli -- --help lists the commands\n`);
    return USAGE_ERROR;
  }
  return runResolvingLocal(name, rest, processIo, (args, env) => command.run(args, env));
}

process.exitCode = await main(process.argv.slice(2));

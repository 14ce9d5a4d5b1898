/**
 * `npm run --silent cli -- COMMAND ...`: the project's command line.
 *   render FILE|-                       the PutEvents entries the notifier would publish
 *   test-pattern PATTERN_FILE EVENT_FILE   whether an EventBridge pattern matches an event
 */
import { processIo } from './cli-io.js';
import { renderCommand } from './render.js';
import { testPatternCommand } from './test-pattern.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  render: (args) => renderCommand(args, processIo),
  'test-pattern': (args) => testPatternCommand(args, processIo),
};

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS[name];
if (command === undefined) {
  process.stderr.write(`usage: cli <${Object.keys(COMMANDS).join('|')}> ...\n`);
  process.exitCode = 2;
} else {
  process.exitCode = await command(args);
}

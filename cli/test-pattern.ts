/**
 * `test-pattern PATTERN_FILE EVENT_FILE`: the local twin of `aws events test-event-pattern`,
 * so a rule can be checked against a sample event without an AWS account.
 */
import { readFile } from 'node:fs/promises';
import { eventEnvelopeProblems } from '../local/event-pattern/event-envelope.js';
import { compilePattern, InvalidPatternError } from '../local/event-pattern/index.js';
import { eventFromInput } from './event-input.js';

export interface TestPatternIo {
  /** Receives whole lines, newline included (wire to process.stdout.write). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Reads all of standard input; defaults to process.stdin. Injectable for tests. */
  readStdin?: () => Promise<string>;
}

const USAGE = `usage: test-pattern PATTERN_FILE EVENT_FILE   (either file may be "-" for standard input, not both)
  Prints true or false, like TestEventPattern. The event may be an event as EventBridge
  delivers it, a render output line, or a line of .local/events.jsonl, e.g.
    npm run --silent cli -- test-pattern samples/pattern.json samples/event.json
    head -n 1 .local/events.jsonl | npm run --silent cli -- test-pattern samples/pattern.json -
`;

/** Exit status for anything that prevents an answer (usage, unreadable file, bad JSON, invalid pattern). */
const EXIT_ERROR = 2;

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

class InputError extends Error {}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function readJson(role: string, file: string, readStdin: () => Promise<string>): Promise<unknown> {
  const label = file === '-' ? `${role} (standard input)` : `${role} ${file}`;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${label}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 1 && isJson(lines[0]!)) {
      throw new InputError(`${label} holds ${lines.length} JSON lines; give one, e.g. head -n 1 ${file === '-' ? 'FILE' : file} | npm run --silent cli -- test-pattern PATTERN_FILE -`);
    }
    throw new InputError(`${label} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Prints `true` or `false` and returns 0, like TestEventPattern; returns 2 with a message
 * on stderr when there is no answer to give. "Does not match" and "cannot tell" must not
 * look alike to a script, hence the distinct exit status rather than printing `false`.
 */
export async function testPatternCommand(
  args: string[],
  io: TestPatternIo,
): Promise<number> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    io.stdout(USAGE);
    return 0;
  }
  // "-" is standard input; anything else that starts with "-" is a mistyped flag, not a file name.
  const flag = args.find((a) => a.startsWith('-') && a !== '-');
  if (flag !== undefined) {
    io.stderr(`test-pattern: Unknown option '${flag}'; npm run cli -- test-pattern --help shows the usage\n`);
    return EXIT_ERROR;
  }
  const [patternFile, eventFile] = args;
  if (args.length !== 2 || patternFile === undefined || eventFile === undefined) {
    io.stderr(`test-pattern: expected 2 arguments, got ${args.length}\n${USAGE}`);
    return EXIT_ERROR;
  }
  if (patternFile === '-' && eventFile === '-') {
    io.stderr(`test-pattern: only one of PATTERN_FILE and EVENT_FILE can be "-" (standard input)\n${USAGE}`);
    return EXIT_ERROR;
  }
  const readStdin = io.readStdin ?? readProcessStdin;
  try {
    const pattern = await readJson('PATTERN_FILE', patternFile, readStdin);
    const compiled = compilePattern(pattern);
    const { event, from } = eventFromInput(await readJson('EVENT_FILE', eventFile, readStdin));
    if (from !== undefined) io.stderr(`test-pattern: EVENT_FILE is ${from}\n`);
    const problems = eventEnvelopeProblems(event);
    if (problems.length > 0) {
      io.stderr(`test-pattern: EVENT_FILE is not an EventBridge event:\n${problems.map((p) => `  ${p}\n`).join('')}`);
      return EXIT_ERROR;
    }
    io.stdout(`${compiled.matches(event)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof InvalidPatternError || error instanceof InputError) {
      io.stderr(`test-pattern: ${error.message}\n`);
      return EXIT_ERROR;
    }
    throw error;
  }
}

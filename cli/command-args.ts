/**
 * What every command does with its arguments before its own work: parseArgs with the
 * command's flags and `--help`, the usage on stdout for `--help` (exit 0), and a usage error
 * (the message, then the usage, on stderr; exit 2) for a flag parseArgs rejects.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliIo } from './cli-io.js';

type FlagTable = NonNullable<ParseArgsConfig['options']>;
const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/** Exit status of a usage or configuration error. */
export const USAGE_ERROR = 2;

/** Prints `why` (if given) and the usage on stderr; returns the exit status of a usage error. */
export function usageError(io: CliIo, usage: string, why?: string): number {
  io.stderr(`${why === undefined ? '' : `${why}\n`}${usage}\n`);
  return USAGE_ERROR;
}

/**
 * parseArgs' complaint as one line with a pointer to the command's `--help`: without Node's
 * advice on positionals that start with '-', which is not what a mistyped flag needs.
 */
function flagErrorLine(usage: string, message: string): string {
  const command = /^usage: (npm run \S+ --|\S+)/.exec(usage)?.[1] ?? 'the command';
  const complaint = message.split(/\. (To specify|This command)/)[0]!.replace(/\.$/, '');
  const help = command.startsWith('npm run') ? `${command} --help` : `npm run cli -- ${command} --help`;
  return `${command.replace(/^npm run | --$/g, '')}: ${complaint}; ${help} shows the usage`;
}

/**
 * Parses a command's arguments: the flags of `flags` plus `--help` (a command may give its own
 * `help`, e.g. with a short form). Returns parseArgs' result, or an exit status when the
 * command is already done (`--help` or `-h`: 0; a rejected flag: {@link USAGE_ERROR}, with one
 * line naming the flag and pointing to `--help`).
 * Positionals are refused unless `allowPositionals`.
 */
export function parseCommandArgs<const F extends FlagTable, const P extends boolean = false>(
  args: string[],
  io: CliIo,
  usage: string,
  flags: F,
  allowPositionals?: P,
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...HELP_FLAG, ...flags } as typeof HELP_FLAG & F, allowPositionals: (allowPositionals ?? false) as P, strict: true });
  } catch (error) {
    io.stderr(`${flagErrorLine(usage, (error as Error).message)}\n`);
    return USAGE_ERROR;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout(usage + '\n');
    return 0;
  }
  return parsed;
}

/** The environment with each flag that was given overriding its variable (name → flag value). */
export function envWithFlags(env: Record<string, string | undefined>, flags: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...env, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
}

/**
 * `--local`: a command runs against the pipeline `npm start` is running, with what it wrote to
 * `.local/pipeline.json` (local/pipeline-info.ts). The endpoints, tables, queue, bus and the
 * notifier's settings become the environment variables every command already reads, so flags
 * given beside `--local` still win; the few settings that only exist as flags (smoke's table
 * and bus, redrive's source) are added as flags when not given.
 */
import { ENV } from '../functions/notifier/config.js';
import { INDEXER_ENV } from '../functions/indexer/indexer.js';
import { RESYNC_ENV } from '../functions/resync/config.js';
import { DEFAULT_RUN_DIRECTORY } from '../local/run-directory.js';
import { readPipelineInfo, type PipelineInfo } from '../local/pipeline-info.js';
import type { CliIo } from './cli-io.js';
import { USAGE_ERROR } from './command-args.js';
import { errorLine } from './error-line.js';

/** The flag, as users type it. */
export const LOCAL_FLAG = '--local';

/** The variable naming npm start's run directory when it is not the default (npm start -- --run-dir DIR). */
export const LOCAL_RUN_DIR_ENV = 'LOCAL_RUN_DIR';

/** One line for each command's usage. */
export const LOCAL_FLAG_USAGE = `--local: use the pipeline a running \`npm start\` serves (${DEFAULT_RUN_DIRECTORY}/pipeline.json, or ${LOCAL_RUN_DIR_ENV}/pipeline.json): no endpoint, table, queue or bus to set`;

/** Whether the arguments ask for `--local` (before a `--`, which ends the flags). */
function hasLocalFlag(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes(LOCAL_FLAG);
}

/** The environment a command sees under `--local`: the pipeline's settings over the caller's. */
export function localEnv(info: PipelineInfo, env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    ...env,
    AWS_REGION: info.region,
    // Any credentials do for the local stand-ins; these keep a profile's (perhaps expired) ones out of it.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: info.dynamodbEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: info.eventbridgeEndpoint,
    AWS_ENDPOINT_URL_SQS: info.sqsEndpoint,
    [RESYNC_ENV.tableName]: info.tableName,
    ...(info.indexerTableName === undefined ? {} : { [INDEXER_ENV.tableName]: info.indexerTableName }),
    [ENV.eventBusName]: info.busArn,
    [ENV.eventSource]: info.eventSource,
    [ENV.watchedFields]: info.watchedFields,
    [ENV.watchedFieldResolutions]: info.watchedFieldResolutions,
    [ENV.quarantineQueueUrl]: info.quarantineQueueUrl,
  };
}

/** Flags a command takes only as flags, added under `--local` unless given. */
function localFlags(command: string, args: readonly string[], info: PipelineInfo): string[] {
  const given = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  if (command === 'smoke') {
    return [
      ...(given('--table') ? [] : ['--table', info.tableName]),
      ...(given('--bus') ? [] : ['--bus', info.busArn]),
      ...(given('--source') ? [] : ['--source', info.eventSource]),
      ...(given('--watched-fields') ? [] : ['--watched-fields', info.watchedFields]),
    ];
  }
  if (command === 'redrive' && info.onFailureDirectory !== undefined && !['--bucket', '--directory', '--file'].some(given)) {
    return ['--directory', info.onFailureDirectory];
  }
  return [];
}

/**
 * The arguments (without `--local`) and environment a command runs with. Without `--local`,
 * both unchanged; with it, throws NoLocalPipelineError (one line) when no `npm start` runs.
 */
export function resolveLocal(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  runDirectory: string = env[LOCAL_RUN_DIR_ENV] || DEFAULT_RUN_DIRECTORY,
): { args: string[]; env: Record<string, string | undefined> } {
  if (!hasLocalFlag(args)) return { args: [...args], env };
  const end = args.indexOf('--');
  const flags = (end < 0 ? args : args.slice(0, end)).filter((a) => a !== LOCAL_FLAG);
  const rest = end < 0 ? [] : args.slice(end);
  const info = readPipelineInfo(runDirectory);
  return { args: [...flags, ...localFlags(command, flags, info), ...rest], env: localEnv(info, env) };
}

/**
 * Runs a command from its entry point: `--local` resolved into the process's environment (the
 * SDK reads credentials and region from it too), and whatever it throws as one line
 * (`<name>: ...`) on stderr with a non-zero status, never a stack trace: {@link USAGE_ERROR}
 * when no `npm start` runs for `--local`, 1 otherwise.
 */
export async function runResolvingLocal(
  name: string,
  args: readonly string[],
  io: Pick<CliIo, 'stderr'>,
  run: (args: string[], env: Record<string, string | undefined>) => Promise<number>,
): Promise<number> {
  try {
    const resolved = resolveLocal(name, args, process.env);
    if (resolved.env !== process.env) Object.assign(process.env, resolved.env);
    return await run(resolved.args, process.env);
  } catch (error) {
    io.stderr(`${name}: ${errorLine(error)}\n`);
    return (error as Error | undefined)?.name === 'NoLocalPipelineError' ? USAGE_ERROR : 1;
  }
}

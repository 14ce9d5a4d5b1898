/**
 * What a running `npm start` tells the CLI: `<run dir>/pipeline.json` holds its endpoints,
 * table names, queue URL and bus, written once the pipeline is up and removed when it stops.
 * The CLI's `--local` reads it (cli/local-pipeline.ts), so no command needs hand-set endpoints.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { formatResolutions } from '../functions/notifier/field-resolution.js';
import { LOCAL_AWS } from './local-aws.js';
import type { LocalPipeline } from './pipeline.js';

/** The file's name inside the run directory. */
export const PIPELINE_INFO_FILE = 'pipeline.json';

/** The file's contents: what a command needs to reach the local pipeline. */
export const PipelineInfo = z.object({
  /** The `npm start` process, to tell a running pipeline from a file left by one that was killed. */
  pid: z.number(),
  region: z.string(),
  dynamodbEndpoint: z.string(),
  eventbridgeEndpoint: z.string(),
  sqsEndpoint: z.string(),
  tableName: z.string(),
  streamArn: z.string(),
  /** The reference indexer's table (absent when the template has no indexer route). */
  indexerTableName: z.optional(z.string()),
  busArn: z.string(),
  eventSource: z.string(),
  /** Comma-separated, as WATCHED_FIELDS takes them. */
  watchedFields: z.string(),
  /** `field=n,...`, as WATCHED_FIELD_RESOLUTIONS takes them ('' for none). */
  watchedFieldResolutions: z.string(),
  quarantineQueueUrl: z.string(),
  /** The on-failure bucket stand-in (a directory), when the automatic redrive runs. */
  onFailureDirectory: z.optional(z.string()),
});
export type PipelineInfo = z.infer<typeof PipelineInfo>;

/** What a running pipeline tells the CLI (`indexerTableName`: the reference indexer's, when it runs). */
export function describePipeline(p: LocalPipeline, indexerTableName: string | undefined, pid: number = process.pid): PipelineInfo {
  return {
    pid,
    region: LOCAL_AWS.region,
    dynamodbEndpoint: p.dynamodb.endpoint,
    eventbridgeEndpoint: p.busEndpoint,
    sqsEndpoint: p.sqsEndpoint,
    tableName: p.tableName,
    streamArn: p.streamArn,
    ...(indexerTableName === undefined ? {} : { indexerTableName }),
    busArn: p.busArn,
    eventSource: p.notifierConfig.eventSource,
    watchedFields: p.notifierConfig.watchedFields.join(','),
    watchedFieldResolutions: formatResolutions(p.notifierConfig.fieldResolutions),
    quarantineQueueUrl: p.quarantineQueueUrl,
    ...(p.redrive === undefined ? {} : { onFailureDirectory: p.redrive.store.location }),
  };
}

/** Writes the file (atomically: a reader never sees half of it); returns its path. */
export function writePipelineInfo(runDirectory: string, info: PipelineInfo): string {
  const path = join(runDirectory, PIPELINE_INFO_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(info, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Removes the file: the pipeline it describes has stopped. */
export function removePipelineInfo(runDirectory: string): void {
  rmSync(join(runDirectory, PIPELINE_INFO_FILE), { force: true });
}

/** Why `--local` cannot be used: one line saying what to do. */
export class NoLocalPipelineError extends Error {
  override readonly name = 'NoLocalPipelineError';
}

/** Whether a process with this id runs (a signal-0 probe; EPERM means it runs as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the file of a running `npm start`; throws {@link NoLocalPipelineError} when there is none. */
export function readPipelineInfo(runDirectory: string): PipelineInfo {
  const path = join(runDirectory, PIPELINE_INFO_FILE);
  const start = 'start it in another terminal, from this directory: npm start';
  if (!existsSync(path)) throw new NoLocalPipelineError(`--local: no running npm start found (${path} is missing); ${start}`);
  let parsed;
  try {
    parsed = PipelineInfo.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !parsed.success) throw new NoLocalPipelineError(`--local: ${path} is not what npm start writes; restart it: npm start`);
  if (!isRunning(parsed.data.pid)) throw new NoLocalPipelineError(`--local: the npm start that wrote ${path} (pid ${parsed.data.pid}) is no longer running; ${start}`);
  return parsed.data;
}

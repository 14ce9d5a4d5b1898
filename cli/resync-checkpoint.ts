/**
 * Where `resync` keeps its checkpoint by default: under the state directory (`.local/`,
 * git-ignored), one file per table and stream. A checkpoint names the run it belongs to; a
 * new stream (a table re-created, or a new `npm start`) is a new pipeline, whose first resync
 * must not find the last pipeline's completed run and skip.
 */
import { join } from 'node:path';
import { DEFAULT_RUN_DIRECTORY } from '../local/run-directory.js';

/** The directory of resync checkpoints. */
const RESYNC_STATE_DIRECTORY = join(DEFAULT_RUN_DIRECTORY, 'resync');

/** A name safe in a file name on every system. */
const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');

/** The default checkpoint of a resync of `tableName` through its stream `streamLabel` (none: the table alone). */
export function defaultCheckpointFile(tableName: string, streamLabel: string | undefined, directory: string = RESYNC_STATE_DIRECTORY): string {
  return join(directory, `${safe(tableName)}${streamLabel === undefined ? '' : `.${safe(streamLabel)}`}.checkpoint.json`);
}

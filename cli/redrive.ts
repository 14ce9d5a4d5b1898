/**
 * `redrive`: run batches that Lambda gave up on through the current notifier, by hand, e.g.
 * after the automatic redrive gave up (the stale-object alarm) or for a local run's file.
 * Sources: the on-failure bucket (`--bucket`, every object or `--prefix`, `--since/--until`
 * on the objects' LastModified), the local pipeline's bucket stand-in (`--directory`), or a
 * file of on-failure records, one JSON object per line or a single object (`--file`, such as
 * the local pipeline's `.local/on-failure.jsonl`).
 *
 * Each object goes through the same redrive as the automatic one (functions/redrive/): the
 * same notifications with the same `message_id`s, invalid records quarantined, the object
 * marked done (`redrive=done`; a done object is skipped unless `--force`). `--dry-run`
 * prints what would be published, as `render` does, and changes nothing. At most `--rate`
 * objects a second; a progress line on stderr at most once a second; the checkpoint file is
 * rewritten after every object, so the same command resumes after an interruption (Ctrl-C
 * stops after the object in flight); `--restart` starts over.
 * Exit status: 0 every object done, 1 some not (or interrupted), 2 usage or configuration error.
 */
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { classifyRecord } from '../functions/notifier/batch-processor.js';
import { CLAIM_CHECK_PREFIX, S3ClaimCheckStore } from '../functions/notifier/claim-check.js';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { parseOnFailureObject, UnreadableObjectError } from '../functions/redrive/on-failure-record.js';
import { S3OnFailureStore, type OnFailureStore, type RedriveMark, type StoredObject } from '../functions/redrive/on-failure-store.js';
import { createRedriver, type RedriveOutcome } from '../functions/redrive/redriver.js';
import { createTokenBucket } from '../functions/resync/token-bucket.js';
import { DirectoryOnFailureStore } from '../local/on-failure-directory.js';
import { flaggedClientSettings } from './aws-endpoints.js';
import { lazyS3Client } from './lazy-s3-client.js';
import type { CliIo } from './cli-io.js';
import { parseCommandArgs, usageError } from './command-args.js';
import { LOCAL_FLAG_USAGE } from './local-pipeline.js';
import { CLI_CONTEXT, cliNotifier, NOTIFIER_FLAGS, NOTIFIER_FLAGS_USAGE, notifierConfigFrom } from './notifier-setup.js';
import { renderEntry, renderRejection } from './render.js';
import * as z from 'zod/mini';

const USAGE = `usage: redrive (--bucket BUCKET [--prefix P] [--since ISO] [--until ISO] | --directory DIR | --file FILE)
               [--dry-run] [--force] [--rate OBJECTS_PER_SECOND] [--checkpoint FILE] [--restart]
               ${NOTIFIER_FLAGS_USAGE}
               [--s3-endpoint URL] [--eventbridge-endpoint URL] [--sqs-endpoint URL] [--region REGION]
  Runs the batches Lambda gave up on through the current notifier: the same notifications and
  message_ids as the stream, invalid records to the quarantine, each object then tagged
  redrive=done (skipped next time unless --force). --dry-run prints the PutEvents entries as
  render does and changes nothing. At most --rate objects a second (default 2). The checkpoint
  (default redrive.checkpoint.json) is written after every object: run again to resume.
  Environment: the notifier's variables (EVENT_BUS_NAME, QUARANTINE_QUEUE_URL, ...),
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL_SQS (flags win).
  ${LOCAL_FLAG_USAGE} (the source: its on-failure directory)`;

export interface RedriveCommandOptions {
  readonly env?: Record<string, string | undefined>;
  readonly s3?: S3Client;
  readonly eventBridge?: EventBridgeClient;
  readonly sqs?: SQSClient;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 1000 */
  readonly progressIntervalMs?: number;
}

const count = z.number().check(z.int(), z.nonnegative());
const CountsSchema = z.object({ objects: count, done: count, alreadyDone: count, notDone: count, records: count });
/** What the checkpoint file holds: the source, the last object handled, the counts so far. */
const CheckpointSchema = z.object({ source: z.string(), lastKey: z.string(), counts: CountsSchema });
type Checkpoint = z.infer<typeof CheckpointSchema>;
type Counts = z.infer<typeof CountsSchema>;

/** The checkpoint file read back; throws an Error saying what is wrong with it. */
function readCheckpoint(file: string): Checkpoint {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(error instanceof SyntaxError ? `not JSON (${error.message})` : (error as Error).message);
  }
  const parsed = CheckpointSchema.safeParse(json);
  if (!parsed.success) throw new Error(`not a redrive checkpoint: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The lines of a file as a store: key `line-000001`, marks kept in memory (a file cannot be tagged). */
class FileStore implements OnFailureStore {
  private readonly marks = new Map<string, string>();
  constructor(
    readonly location: string,
    private readonly lines: readonly string[],
  ) {}
  static key(n: number): string {
    return `line-${String(n).padStart(6, '0')}`;
  }
  async *list(opts: { prefix?: string; startAfter?: string } = {}): AsyncIterable<StoredObject> {
    for (let i = 0; i < this.lines.length; i++) {
      const key = FileStore.key(i + 1);
      if (this.lines[i]!.trim() === '' || (opts.startAfter !== undefined && key <= opts.startAfter)) continue;
      yield { key, lastModified: undefined };
    }
  }
  async read(key: string) {
    return this.lines[Number(key.slice(5)) - 1];
  }
  async mark(key: string) {
    return this.marks.get(key);
  }
  async setMark(key: string, mark: RedriveMark) {
    this.marks.set(key, mark);
  }
}

/** A whole file holding one JSON object (pretty-printed or not), as opposed to one per line. */
function isSingleJson(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

export async function redriveCommand(args: string[], io: CliIo, options: RedriveCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const parsed = parseCommandArgs(args, io, USAGE, {
    bucket: { type: 'string' },
    prefix: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    directory: { type: 'string' },
    file: { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
    rate: { type: 'string' },
    checkpoint: { type: 'string' },
    restart: { type: 'boolean' },
    's3-endpoint': { type: 'string' },
    'eventbridge-endpoint': { type: 'string' },
    'sqs-endpoint': { type: 'string' },
    region: { type: 'string' },
    ...NOTIFIER_FLAGS,
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const sources = [values.bucket, values.directory, values.file].filter((v) => v !== undefined);
  const usage = (why: string) => usageError(io, USAGE, why);
  if (sources.length !== 1) return usage('give exactly one of --bucket, --directory, --file');
  const since = values.since === undefined ? undefined : Date.parse(values.since);
  const until = values.until === undefined ? undefined : Date.parse(values.until);
  if (Number.isNaN(since) || Number.isNaN(until)) return usage('--since and --until take an ISO date or time');
  if ((since !== undefined || until !== undefined || values.prefix !== undefined) && values.bucket === undefined && values.directory === undefined) {
    return usage('--prefix, --since and --until select objects of a bucket or directory');
  }
  const rate = Number(values.rate ?? 2);
  if (!(rate > 0)) return usage('--rate must be a positive number of objects per second');

  let config;
  try {
    config = notifierConfigFrom(values, env);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 2;
  }
  const dryRun = values['dry-run'] === true;
  if (!dryRun && config.quarantineQueueUrl === undefined) {
    io.stderr('redrive: QUARANTINE_QUEUE_URL (or --quarantine-queue-url) must be set: invalid records go there (--dry-run needs none), or add --local to use a running npm start\n');
    return 2;
  }

  const s3 = lazyS3Client(options.s3, values, env);
  let store: OnFailureStore;
  let sourceName: string;
  try {
    if (values.bucket !== undefined) {
      store = new S3OnFailureStore(s3(), values.bucket);
    } else if (values.directory !== undefined) {
      if (!existsSync(values.directory)) return usage(`no directory ${values.directory}`);
      store = new DirectoryOnFailureStore(values.directory);
    } else {
      const text = await readFile(values.file!, 'utf8');
      store = new FileStore(values.file!, isSingleJson(text) ? [text] : text.split('\n'));
    }
    sourceName = `${store.location}${values.prefix === undefined ? '' : `/${values.prefix}`}`;
  } catch (error) {
    io.stderr(`cannot read the source: ${(error as Error).message}\n`);
    return 2;
  }

  const checkpointFile = values.checkpoint ?? 'redrive.checkpoint.json';
  let counts: Counts = { objects: 0, done: 0, alreadyDone: 0, notDone: 0, records: 0 };
  let startAfter: string | undefined;
  if (!dryRun && values.restart !== true && existsSync(checkpointFile)) {
    let saved: Checkpoint;
    try {
      saved = readCheckpoint(checkpointFile);
    } catch (error) {
      io.stderr(`cannot resume from ${checkpointFile}: ${(error as Error).message} (--restart to start over, or --checkpoint another file)\n`);
      return 2;
    }
    if (saved.source === sourceName) {
      startAfter = saved.lastKey;
      counts = saved.counts;
      io.stderr(`resuming after ${saved.lastKey} (${checkpointFile}; --restart to start over)\n`);
    }
  }
  const saveCheckpoint = (lastKey: string) => {
    if (dryRun) return;
    const tmp = `${checkpointFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ source: sourceName, lastKey, counts } satisfies Checkpoint) + '\n');
    renameSync(tmp, checkpointFile);
  };

  const eventBridge = options.eventBridge ?? new EventBridgeClient({ ...flaggedClientSettings('eventbridge', values, env), maxAttempts: 1 });
  const sqs = options.sqs ?? new SQSClient(flaggedClientSettings('sqs', values, env));
  // A record whose quarantine message is over 1 MiB is kept in S3 (QUARANTINE_BUCKET), as the stream's notifier keeps it.
  const claimCheck = config.quarantineBucket === undefined ? undefined : new S3ClaimCheckStore(s3(), config.quarantineBucket);
  // A dry run publishes nothing: it needs no notifier, so no quarantine either.
  const redrive = dryRun ? undefined : createRedriver({ store, handler: cliNotifier(config, eventBridge, sqs, claimCheck), eventBridge, eventBusName: config.eventBusName });
  const build = createNotificationBuilder(config);
  const bucket = createTokenBucket({ ratePerSecond: rate, ...(options.now ? { now: options.now } : {}), ...(options.sleep ? { sleep: options.sleep } : {}) });
  const now = options.now ?? Date.now;
  const progressEvery = options.progressIntervalMs ?? 1000;
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!force && now() - lastProgress < progressEvery) return;
    lastProgress = now();
    io.stderr(`redrive ${sourceName}: ${counts.objects} objects, ${counts.done} redriven, ${counts.alreadyDone} already done, ${counts.notDone} not done, ${counts.records} records\n`);
  };

  let interrupted = false;
  try {
    for await (const object of store.list({ ...(values.prefix === undefined ? {} : { prefix: values.prefix }), ...(startAfter === undefined ? {} : { startAfter }) })) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      // The quarantine keeps its oversized messages in the same bucket: they are not discarded batches.
      if (object.key.startsWith(CLAIM_CHECK_PREFIX)) continue;
      const at = object.lastModified?.getTime();
      if (at !== undefined && ((since !== undefined && at < since) || (until !== undefined && at > until))) continue;
      await bucket.take();
      counts.objects++;
      if (dryRun) {
        await dryRunObject(object.key);
      } else {
        const outcome = await redrive!(object.key, { context: CLI_CONTEXT, force: values.force === true });
        note(object.key, outcome);
        saveCheckpoint(object.key);
      }
      progress();
    }
  } finally {
    progress(true);
  }

  async function dryRunObject(key: string): Promise<void> {
    const text = await store.read(key);
    if (text === undefined) return void io.stderr(JSON.stringify({ key, gone: true }) + '\n');
    try {
      const { records } = parseOnFailureObject(text);
      counts.records += records.length;
      for (const raw of records) {
        const outcome = classifyRecord(raw, build);
        if (outcome.kind === 'notify') io.stdout(renderEntry(outcome.notification.entry) + '\n');
        else if (outcome.kind === 'invalid') io.stderr(renderRejection(raw, outcome.issues) + '\n');
      }
    } catch (error) {
      if (!(error instanceof UnreadableObjectError)) throw error;
      counts.notDone++;
      io.stderr(JSON.stringify({ key, unreadable: error.message }) + '\n');
    }
  }

  function note(key: string, outcome: RedriveOutcome): void {
    if (outcome.kind === 'done') {
      counts.done++;
      counts.records += outcome.records;
    } else if (outcome.kind === 'already_done') counts.alreadyDone++;
    else {
      counts.notDone++;
      io.stderr(JSON.stringify({ key, ...outcome }) + '\n');
    }
  }

  // A dry run's stdout is the entries only, as render's.
  (dryRun ? io.stderr : io.stdout)(JSON.stringify({ source: sourceName, dryRun, interrupted, ...counts }) + '\n');
  // A finished run needs no checkpoint: the next run starts over (done objects are skipped by their mark).
  if (!dryRun && !interrupted && existsSync(checkpointFile)) unlinkSync(checkpointFile);
  return interrupted || counts.notDone > 0 ? 1 : 0;
}

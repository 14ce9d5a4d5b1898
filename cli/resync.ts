/**
 * `resync`: refresh every live compute node through the stream. A run writes the resync
 * marker to each live, valid item (rate-limited), and the notifier turns each write into a
 * full-state `compute_node.update` with `change.origin: "resync"`; start and end control
 * events (`hypervisor_notifier.resync_run`) bracket the run. See functions/resync/resync.ts.
 *
 * Progress goes to stderr (at most once a second, and at the end); the final summary is one
 * JSON line on stdout. The checkpoint file is rewritten after every page; run the same
 * command again to resume after an interruption (Ctrl-C stops after the write in flight).
 * Exit status: 0 complete, 1 stopped by an error, interrupted (resumable) or refused because
 * another run holds the lease, 2 usage or configuration error.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ENV } from '../functions/notifier/config.js';
import { DEFAULT_STATE_TABLE_NAME, RESYNC_ENV, loadResyncConfig, type ResyncConfig } from '../functions/resync/config.js';
import { createLease } from '../functions/resync/lease.js';
import { checkResyncState, newResyncState, runResync, totals, type ResyncState } from '../functions/resync/resync.js';
import { ensureResyncStateTable } from '../functions/resync/state-table.js';
import { createTokenBucket } from '../functions/resync/token-bucket.js';
import { flaggedClientSettings, isLoopbackEndpoint, type ClientSettings } from './aws-endpoints.js';
import type { CliIo } from './cli-io.js';
import { envWithFlags, parseCommandArgs } from './command-args.js';
import { errorLine } from './error-line.js';
import { LOCAL_FLAG_USAGE } from './local-pipeline.js';
import { defaultCheckpointFile } from './resync-checkpoint.js';

const USAGE = `usage: resync --table TABLE [--lease-table TABLE] [--bus-name BUS] [--source SOURCE]
              [--segments N] [--rate WRITES_PER_SECOND] [--page-size N] [--concurrency N]
              [--checkpoint FILE] [--restart]
              [--dynamodb-endpoint URL] [--eventbridge-endpoint URL] [--region REGION]
  Refreshes every live compute node through the stream: writes the resync marker
  (resync_run) to each live, valid item, at most --rate writes per second (default 100);
  the notifier publishes each as a compute_node.update with change.origin "resync". The run
  is bracketed by hypervisor_notifier.resync_run start/end events on the bus. One run at a
  time: a lease in the state table (--lease-table, default ${DEFAULT_STATE_TABLE_NAME}; on
  AWS the stack's ResyncStateTableName output; created automatically in DynamoDB Local).
  The checkpoint (default .local/resync/TABLE.STREAM_LABEL.checkpoint.json: one per table and
  stream, so a new table or stream starts a new run) is written after every page; run again
  to resume, --restart to start a new run.
  Environment: ${RESYNC_ENV.tableName}, ${RESYNC_ENV.stateTableName}, ${ENV.eventBusName}, ${ENV.eventSource},
  ${RESYNC_ENV.totalSegments}, ${RESYNC_ENV.writesPerSecond}, ${RESYNC_ENV.leaseSeconds}, AWS_ENDPOINT_URL_DYNAMODB,
  AWS_ENDPOINT_URL_EVENTBRIDGE (flags win).
  ${LOCAL_FLAG_USAGE}`;

export interface ResyncCommandOptions {
  readonly env?: Record<string, string | undefined>;
  /** Clients to use instead of building them from flags and environment (tests). */
  readonly dynamodb?: DynamoDBClient;
  readonly eventBridge?: EventBridgeClient;
  /** Create the lease table if missing. @default when the DynamoDB endpoint is a loopback address */
  readonly createLeaseTable?: boolean;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Stops after the write in flight (the CLI wires Ctrl-C to it). */
  readonly signal?: AbortSignal;
  /** Minimum milliseconds between two progress lines. @default 1000 */
  readonly progressIntervalMs?: number;
  /** Where the default checkpoints go. @default .local/resync */
  readonly stateDirectory?: string;
}

export async function resyncCommand(args: string[], io: CliIo, options: ResyncCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const parsed = parseCommandArgs(args, io, USAGE, {
    table: { type: 'string' },
    'lease-table': { type: 'string' },
    'bus-name': { type: 'string' },
    source: { type: 'string' },
    segments: { type: 'string' },
    rate: { type: 'string' },
    'page-size': { type: 'string' },
    concurrency: { type: 'string' },
    checkpoint: { type: 'string' },
    restart: { type: 'boolean' },
    'dynamodb-endpoint': { type: 'string' },
    'eventbridge-endpoint': { type: 'string' },
    region: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;

  let config: ResyncConfig;
  const flagged: Record<string, string | undefined> = {
    [RESYNC_ENV.tableName]: values.table,
    [RESYNC_ENV.stateTableName]: values['lease-table'],
    [ENV.eventBusName]: values['bus-name'],
    [ENV.eventSource]: values.source,
    [RESYNC_ENV.totalSegments]: values.segments,
    [RESYNC_ENV.writesPerSecond]: values.rate,
    [RESYNC_ENV.pageSize]: values['page-size'],
    [RESYNC_ENV.segmentConcurrency]: values.concurrency,
  };
  let dynamodb = options.dynamodb;
  let eventBridge = options.eventBridge;
  let dynamodbSettings: ClientSettings;
  try {
    config = loadResyncConfig(envWithFlags(env, flagged));
    dynamodbSettings = flaggedClientSettings('dynamodb', values, env);
    dynamodb ??= new DynamoDBClient(dynamodbSettings);
    eventBridge ??= new EventBridgeClient({ ...flaggedClientSettings('eventbridge', values, env), maxAttempts: 1 });
  } catch (error) {
    io.stderr(`resync: ${(error as Error).message}\n`);
    return 2;
  }
  const closeClients = () => {
    if (options.dynamodb === undefined) dynamodb.destroy();
    if (options.eventBridge === undefined) eventBridge.destroy();
  };

  const refuse = (why: string) => {
    io.stderr(`${why}\n`);
    closeClients();
    return 2;
  };
  let checkpointFile = values.checkpoint;
  let streamLabel: string | undefined;
  if (checkpointFile === undefined) {
    // The table's current stream keys the checkpoint: a run against another table or stream (a new npm start) is a new run.
    try {
      streamLabel = (await dynamodb.send(new DescribeTableCommand({ TableName: config.tableName })))?.Table?.LatestStreamLabel;
    } catch (error) {
      io.stderr(`resync: cannot read table ${config.tableName}: ${errorLine(error)}\n`);
      closeClients();
      return 1;
    }
    checkpointFile = defaultCheckpointFile(config.tableName, streamLabel, options.stateDirectory);
  }
  const now = options.now ?? Date.now;
  let state: ResyncState;
  if (!values.restart && existsSync(checkpointFile)) {
    try {
      state = checkResyncState(JSON.parse(readFileSync(checkpointFile, 'utf8')));
    } catch (error) {
      return refuse(`cannot resume from ${checkpointFile}: ${(error as Error).message} (use --restart to start a new run)`);
    }
    if (state.tableName !== config.tableName) {
      return refuse(`${checkpointFile} is a checkpoint of table ${state.tableName}, not ${config.tableName} (use --checkpoint or --restart)`);
    }
    if (values.segments !== undefined && Number(values.segments) !== state.totalSegments) {
      return refuse(`${checkpointFile} was started with ${state.totalSegments} segments; resume with the same number or --restart`);
    }
    if (state.endPublished) {
      io.stderr(
        `resync skipped: run ${state.runId} on table ${state.tableName}${streamLabel === undefined ? '' : ` (stream ${streamLabel})`} is already complete ` +
          `(checkpoint ${checkpointFile}); nothing was written. --restart starts a new run\n`,
      );
    } else {
      const t = totals(state);
      io.stderr(`resuming run ${state.runId} from ${checkpointFile}: ${t.segmentsDone}/${t.totalSegments} segments done, ${t.refreshed} refreshed so far\n`);
    }
  } else {
    state = newResyncState(config.tableName, config.totalSegments, new Date(now()));
  }

  const save = () => {
    mkdirSync(dirname(checkpointFile), { recursive: true });
    const tmp = `${checkpointFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 1) + '\n');
    renameSync(tmp, checkpointFile);
  };

  const interval = options.progressIntervalMs ?? 1000;
  let lastProgress = -Infinity;
  const progress = (final: boolean) => {
    const t = totals(state);
    io.stderr(
      `${final ? 'resync' : 'progress'} (run ${t.runId}): ${t.segmentsDone}/${t.totalSegments} segments done, scanned ${t.scanned}, ` +
        `refreshed ${t.refreshed} (uncertain ${t.uncertain}), soft-deleted ${t.skipped}, gone meanwhile ${t.gone}, invalid ${t.invalid}\n`,
    );
  };

  const skipped = state.endPublished;
  let complete = state.endPublished;
  let failure: Error | undefined;
  if (!complete) {
    save();
    const bucket = createTokenBucket({ ratePerSecond: config.writesPerSecond, now, ...(options.sleep ? { sleep: options.sleep } : {}) });
    const lease = createLease({ dynamodb, stateTableName: config.stateTableName, tableName: config.tableName, runId: state.runId, durationMs: config.leaseSeconds * 1000, now });
    try {
      if (options.createLeaseTable ?? isLoopbackEndpoint(dynamodbSettings.endpoint)) await ensureResyncStateTable(dynamodb, config.stateTableName);
      const result = await runResync(state, {
        dynamodb,
        eventBridge,
        eventBusName: config.eventBusName,
        eventSource: config.eventSource,
        bucket,
        lease,
        pageSize: config.pageSize,
        segmentConcurrency: config.segmentConcurrency,
        now,
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onPage: () => {
          save();
          if (now() - lastProgress >= interval) {
            lastProgress = now();
            progress(false);
          }
        },
        onInvalid: (item) => io.stderr(JSON.stringify({ notMarked: true, ...item }) + '\n'),
      });
      complete = result.complete;
    } catch (error) {
      failure = error as Error;
      if (failure.name === 'ResourceNotFoundException') {
        failure = new Error(`${failure.message} (is --lease-table ${config.stateTableName} right? On AWS use the stack's ResyncStateTableName output)`);
      }
    } finally {
      save();
    }
  }
  closeClients();
  if (!skipped) progress(true);
  const t = totals(state);
  io.stdout(JSON.stringify({ complete, ...(skipped ? { alreadyComplete: true } : {}), checkpoint: checkpointFile, ...t, ...(failure ? { error: `${failure.name}: ${failure.message}` } : {}) }) + '\n');
  if (failure !== undefined) {
    io.stderr(`resync stopped: ${failure.message}\nrun the same command again to resume run ${state.runId} from ${checkpointFile}\n`);
    return 1;
  }
  if (!complete) {
    io.stderr(`resync interrupted; run the same command again to resume run ${state.runId} from ${checkpointFile}\n`);
    return 1;
  }
  return 0;
}

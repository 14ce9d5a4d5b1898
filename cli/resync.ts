/**
 * `resync`: publish the current state of every live compute node as `compute_node.update`
 * notifications (`change.origin: 'resync'`), for an indexer that is new or lost its state.
 *
 * Progress goes to stderr (per segment, at most once a second, and at the end); the final
 * summary is one JSON line on stdout. The checkpoint file is rewritten after every published
 * page; run the same command again to resume after an interruption (Ctrl-C stops after the
 * pages in flight). Exit status: 0 complete, 1 stopped by an error or interrupted (resumable),
 * 2 usage or configuration error.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ENV } from '../functions/notifier/config.js';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { RESYNC_ENV, loadResyncConfig, type ResyncConfig } from '../functions/resync/config.js';
import { checkResyncState, newResyncState, runResync, totals, type ResyncState } from '../functions/resync/resync.js';
import { createTokenBucket } from '../functions/resync/token-bucket.js';
import { clientSettings } from './aws-endpoints.js';
import type { CliIo } from './cli-io.js';

const USAGE = `usage: resync --table TABLE [--bus-name BUS] [--source SOURCE] [--publisher-host HOST]
              [--segments N] [--rate REQUESTS_PER_SECOND] [--page-size N] [--concurrency N]
              [--checkpoint FILE] [--restart]
              [--dynamodb-endpoint URL] [--eventbridge-endpoint URL] [--region REGION]
  Scans the compute node table in N parallel segments and publishes every live node as a
  compute_node.update with change.origin "resync". PutEvents requests are limited to
  --rate per second (default 50). The checkpoint (default resync-TABLE.checkpoint.json) is
  written after every page; run again to resume, --restart to start over.
  Environment: ${RESYNC_ENV.tableName}, ${ENV.eventBusName}, ${ENV.eventSource}, ${ENV.publisherHostFallback},
  ${RESYNC_ENV.totalSegments}, ${RESYNC_ENV.putEventsPerSecond}, AWS_ENDPOINT_URL_DYNAMODB,
  AWS_ENDPOINT_URL_EVENTBRIDGE (flags win).`;

export interface ResyncCommandOptions {
  readonly env?: Record<string, string | undefined>;
  /** Clients to use instead of building them from flags and environment (tests). */
  readonly dynamodb?: DynamoDBClient;
  readonly eventBridge?: EventBridgeClient;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Stops after the pages in flight (the CLI wires Ctrl-C to it). */
  readonly signal?: AbortSignal;
  /** Minimum milliseconds between two progress lines. @default 1000 */
  readonly progressIntervalMs?: number;
}

export async function resyncCommand(args: string[], io: CliIo, options: ResyncCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  let values;
  try {
    values = parseArgs({
      args,
      allowPositionals: false,
      options: {
        table: { type: 'string' },
        'bus-name': { type: 'string' },
        source: { type: 'string' },
        'publisher-host': { type: 'string' },
        segments: { type: 'string' },
        rate: { type: 'string' },
        'page-size': { type: 'string' },
        concurrency: { type: 'string' },
        checkpoint: { type: 'string' },
        restart: { type: 'boolean' },
        'dynamodb-endpoint': { type: 'string' },
        'eventbridge-endpoint': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE + '\n');
    return 0;
  }

  let config: ResyncConfig;
  const flagged: Record<string, string | undefined> = {
    [RESYNC_ENV.tableName]: values.table,
    [ENV.eventBusName]: values['bus-name'],
    [ENV.eventSource]: values.source,
    [ENV.publisherHostFallback]: values['publisher-host'],
    [RESYNC_ENV.totalSegments]: values.segments,
    [RESYNC_ENV.putEventsPerSecond]: values.rate,
    [RESYNC_ENV.pageSize]: values['page-size'],
    [RESYNC_ENV.segmentConcurrency]: values.concurrency,
  };
  let dynamodb = options.dynamodb;
  let eventBridge = options.eventBridge;
  try {
    config = loadResyncConfig({ ...env, ...Object.fromEntries(Object.entries(flagged).filter(([, v]) => v !== undefined)) });
    dynamodb ??= new DynamoDBClient(clientSettings(values['dynamodb-endpoint'] ?? env.AWS_ENDPOINT_URL_DYNAMODB, env, values.region));
    eventBridge ??= new EventBridgeClient({ ...clientSettings(values['eventbridge-endpoint'] ?? env.AWS_ENDPOINT_URL_EVENTBRIDGE, env, values.region), maxAttempts: 1 });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 2;
  }

  const checkpointFile = values.checkpoint ?? `resync-${config.tableName.replace(/[^A-Za-z0-9._-]/g, '_')}.checkpoint.json`;
  let state: ResyncState;
  if (!values.restart && existsSync(checkpointFile)) {
    try {
      state = checkResyncState(JSON.parse(readFileSync(checkpointFile, 'utf8')));
    } catch (error) {
      io.stderr(`cannot resume from ${checkpointFile}: ${(error as Error).message} (use --restart to start over)\n`);
      return 2;
    }
    if (state.tableName !== config.tableName) {
      io.stderr(`${checkpointFile} is a checkpoint of table ${state.tableName}, not ${config.tableName} (use --checkpoint or --restart)\n`);
      return 2;
    }
    if (values.segments !== undefined && Number(values.segments) !== state.totalSegments) {
      io.stderr(`${checkpointFile} was started with ${state.totalSegments} segments; resume with the same number or --restart\n`);
      return 2;
    }
    const t = totals(state);
    io.stderr(`resuming from ${checkpointFile}: ${t.segmentsDone}/${t.totalSegments} segments done, ${t.published} published so far\n`);
  } else {
    state = newResyncState(config.tableName, config.totalSegments, new Date((options.now ?? Date.now)()));
  }

  const save = () => {
    const tmp = `${checkpointFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 1) + '\n');
    renameSync(tmp, checkpointFile);
  };
  save();

  const now = options.now ?? Date.now;
  const interval = options.progressIntervalMs ?? 1000;
  let lastProgress = -Infinity;
  const progress = (final: boolean) => {
    const t = totals(state);
    const perSegment = state.segments
      .filter((s) => s.pages > 0 || s.done)
      .map((s) => `${s.segment}:${s.done ? 'done' : 'p' + s.pages} ${s.scanned}/${s.published}`)
      .join(' ');
    io.stderr(
      `${final ? 'resync' : 'progress'}: ${t.segmentsDone}/${t.totalSegments} segments done, scanned ${t.scanned}, published ${t.published}, soft-deleted ${t.skipped}, invalid ${t.invalid}` +
        (perSegment === '' ? '' : `  [segment:pages scanned/published] ${perSegment}`) +
        '\n',
    );
  };

  const builder = createNotificationBuilder({ ...config, watchedFields: [] });
  const bucket = createTokenBucket({ ratePerSecond: config.putEventsPerSecond, now, ...(options.sleep ? { sleep: options.sleep } : {}) });
  let complete = false;
  let failure: Error | undefined;
  try {
    const result = await runResync(state, {
      dynamodb,
      eventBridge,
      buildResync: builder.resync,
      bucket,
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
      onInvalid: (item) => io.stderr(JSON.stringify({ notPublished: true, ...item }) + '\n'),
    });
    complete = result.complete;
  } catch (error) {
    failure = error as Error;
  } finally {
    save();
    if (options.dynamodb === undefined) dynamodb.destroy();
    if (options.eventBridge === undefined) eventBridge.destroy();
  }
  progress(true);
  const t = totals(state);
  io.stdout(JSON.stringify({ complete, checkpoint: checkpointFile, ...t, ...(failure ? { error: `${failure.name}: ${failure.message}` } : {}) }) + '\n');
  if (failure !== undefined) {
    io.stderr(`resync stopped: ${failure.message}\nrun the same command again to resume from ${checkpointFile}\n`);
    return 1;
  }
  if (!complete) {
    io.stderr(`resync interrupted; run the same command again to resume from ${checkpointFile}\n`);
    return 1;
  }
  return 0;
}

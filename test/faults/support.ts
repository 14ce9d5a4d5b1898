/**
 * What the fault scenarios are made of (shared by `test/faults/` and `soak/`):
 *
 * - {@link LambdaRuntime}: the notifier as Lambda runs it — one instance at a time, each with
 *   its own clients (configured as `handler.ts` configures them), a function timeout, and
 *   crashes: a crashed or timed-out instance is gone (its clients refuse every further
 *   call, so it cannot publish after its death) and the next invocation cold-starts a new one.
 * - {@link FakeTable}: a DynamoDB table and its stream in memory, for scenarios at the
 *   handler level: every write yields the stream record DynamoDB would write (none when the
 *   item does not change), in Lambda's shape.
 * - {@link startLocalServices}: the local bus and quarantine queue without DynamoDB.
 * - {@link runShard}: the event source mapping over a list of records (one shard).
 * - {@link randomWorkload}: a seeded mix of the writes a fleet makes, invalid ones marked.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { REQUEST_TIMEOUTS } from '../../functions/notifier/client-config.js';
import { loadConfig, type NotifierConfig } from '../../functions/notifier/config.js';
import { createNotifier } from '../../functions/notifier/notifier.js';
import { deliverBatch, type InvokeOutcome, type OnFailureRecord, type StreamHandler } from '../../local/batch-delivery.js';
import { startEventBusServer, type EventBusServer } from '../../local/event-bus-server.js';
import { localClientConfig } from '../../local/local-aws.js';
import { CountingMetrics } from '../../local/notifier-metrics.js';
import { startSqsServer, type SqsServer } from '../../local/sqs-server.js';
import { QUARANTINE_MAX_MESSAGE_BYTES, QUARANTINE_QUEUE } from '../../local/pipeline.js';
import type { LambdaStreamRecord } from '../../local/lambda-stream-record.js';
import type { DeliveredEvent } from '../../local/targets.js';
import { seededRandom } from '../../local/seeded-random.js';
import { checkInvariants, EXPECT_ATTRIBUTE, MARKER, type CheckOptions, type Expectation, type Image, type ImageProblems, type InvariantReport, type Observation } from './invariants.js';

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it is true, or fails naming what it waited for. */
export async function waitUntil(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await realSleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// The Lambda runtime

export interface RuntimeOptions {
  readonly config: NotifierConfig;
  readonly busEndpoint: string;
  readonly sqsEndpoint: string;
  /** The function's timeout. @default 60000 */
  readonly timeoutMs?: number;
  /** The notifier's retry back-off sleep. @default real time */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
}

interface Instance {
  readonly handler: ReturnType<typeof createNotifier>;
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
  dead: boolean;
  putEventsAnswers: number;
  /** Called after each PutEvents answer this instance receives. */
  afterPutEvents?: () => void;
}

class ProcessGone extends Error {
  override readonly name = 'ProcessGone';
}

/** One Lambda function's instances over time (one at a time, as one shard's invocations are). */
export class LambdaRuntime {
  readonly stats = { coldStarts: 0, invocations: 0, crashes: 0, timeouts: 0, errors: 0 };
  readonly metrics = new CountingMetrics();
  private current: Instance | undefined;
  private readonly all: Instance[] = [];
  private crashPlan: number | undefined;

  constructor(private readonly opts: RuntimeOptions) {}

  /** The next invocation's process dies after this many PutEvents answers (0: at once). */
  crashNextInvocation(afterPutEventsAnswers: number): void {
    this.crashPlan = afterPutEventsAnswers;
  }

  /** The instance goes away (scaled in, redeployed); the next invocation cold-starts a new one. */
  restart(): void {
    if (this.current !== undefined) this.current.dead = true;
    this.current = undefined;
  }

  private start(): Instance {
    this.stats.coldStarts++;
    const config = { ...localClientConfig(this.opts.busEndpoint), maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS };
    const eventBridge = new EventBridgeClient(config);
    const sqs = new SQSClient({ ...localClientConfig(this.opts.sqsEndpoint), requestHandler: REQUEST_TIMEOUTS });
    const instance: Instance = { handler: undefined!, eventBridge, sqs, dead: false, putEventsAnswers: 0 };
    // A dead process makes no call and sees no answer.
    for (const client of [eventBridge, sqs] as const) {
      (client.middlewareStack as EventBridgeClient['middlewareStack']).add(
        (next, context) => async (args) => {
          if (instance.dead) throw new ProcessGone('the process is gone');
          const out = await next(args);
          if (instance.dead) throw new ProcessGone('the process is gone');
          if (context.commandName === 'PutEventsCommand') {
            instance.putEventsAnswers++;
            instance.afterPutEvents?.();
          }
          return out;
        },
        { step: 'finalizeRequest', name: 'processAlive' },
      );
    }
    const sleep = this.opts.sleep ?? realSleep;
    (instance as { handler: Instance['handler'] }).handler = createNotifier({
      config: this.opts.config,
      eventBridge,
      sqs,
      logger: new Logger({ serviceName: 'hypervisor-notifier', logLevel: this.opts.logLevel ?? 'SILENT' }),
      metrics: this.metrics.asMetrics(),
      checkEventBus: true,
      // A dead process does not wake up to retry: its sleep never ends (it is not an error
      // the notifier would handle: the process is simply gone).
      sleep: async (ms) => {
        await sleep(ms);
        if (instance.dead) await new Promise<never>(() => {});
      },
    });
    this.all.push(instance);
    return instance;
  }

  /** The stream handler Lambda invokes. */
  readonly handler: StreamHandler = async (event) => {
    this.stats.invocations++;
    const instance = (this.current ??= this.start());
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    const started = Date.now();
    let die!: (error: Error) => void;
    const death = new Promise<never>((_, reject) => {
      die = (error) => {
        instance.dead = true;
        if (this.current === instance) this.current = undefined;
        reject(error);
      };
    });
    const crashAfter = this.crashPlan;
    this.crashPlan = undefined;
    if (crashAfter !== undefined) {
      const base = instance.putEventsAnswers;
      const check = () => {
        if (instance.putEventsAnswers - base >= crashAfter) {
          this.stats.crashes++;
          die(new Error('Runtime.ExitError: the process crashed in the middle of the batch'));
        }
      };
      instance.afterPutEvents = check;
      check();
    }
    const timer = setTimeout(() => {
      this.stats.timeouts++;
      die(new Error(`Task timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      return await Promise.race([
        instance.handler(event, { getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)) }),
        death,
      ]);
    } catch (error) {
      this.stats.errors++;
      throw error;
    } finally {
      clearTimeout(timer);
      instance.afterPutEvents = undefined;
      death.catch(() => {});
    }
  };

  /** Destroys every instance's clients. */
  close(): void {
    for (const i of this.all) {
      i.dead = true;
      i.eventBridge.destroy();
      i.sqs.destroy();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A table and its stream, in memory

export const FAKE_STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/compute-nodes/stream/2026-11-26T00:00:00.000';

/** A DynamoDB table keyed by `uuid`, writing the stream records DynamoDB would (NEW_AND_OLD_IMAGES). */
export class FakeTable {
  readonly items = new Map<string, Image>();
  readonly records: LambdaStreamRecord[] = [];
  /** Records broken by hand, and what must become of each. */
  readonly expectations = new Map<string, Expectation>();
  writes = 0;
  private sequence = 10n ** 20n;

  private nextSequence(): string {
    this.sequence += 1n + BigInt(this.records.length % 7); // gaps, as on a real shard
    return this.sequence.toString().padStart(21, '0');
  }

  private emit(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', uuid: string, images: { NewImage?: Image; OldImage?: Image }): LambdaStreamRecord {
    const sequence = this.nextSequence();
    const record = {
      eventID: `fake-${sequence.replace(/^0+/, '')}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: FAKE_STREAM_ARN,
      dynamodb: {
        ApproximateCreationDateTime: 1_795_719_960 + this.records.length,
        Keys: { uuid: { S: uuid } },
        ...(images.NewImage === undefined ? {} : { NewImage: structuredClone(images.NewImage) }),
        ...(images.OldImage === undefined ? {} : { OldImage: structuredClone(images.OldImage) }),
        SequenceNumber: sequence,
        SizeBytes: 512,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    } as LambdaStreamRecord;
    this.records.push(record);
    return record;
  }

  /** PutItem: INSERT, MODIFY, or no record at all when the item is unchanged. */
  put(item: Image): LambdaStreamRecord | undefined {
    this.writes++;
    const uuid = item.uuid?.S as string;
    const old = this.items.get(uuid);
    this.items.set(uuid, structuredClone(item));
    if (old === undefined) return this.emit('INSERT', uuid, { NewImage: item });
    if (JSON.stringify(old) === JSON.stringify(item)) return undefined;
    return this.emit('MODIFY', uuid, { OldImage: old, NewImage: item });
  }

  /** UpdateItem: the given attributes set (`undefined` removes one). */
  update(uuid: string, changes: Record<string, Image[string] | undefined>): LambdaStreamRecord | undefined {
    const old = this.items.get(uuid);
    if (old === undefined) throw new Error(`no item ${uuid}`);
    const next: Image = { ...old };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete next[k];
      else next[k] = v;
    }
    return this.put(next);
  }

  /** DeleteItem: REMOVE, or nothing when there is no such item. */
  remove(uuid: string): LambdaStreamRecord | undefined {
    this.writes++;
    const old = this.items.get(uuid);
    if (old === undefined) return undefined;
    this.items.delete(uuid);
    return this.emit('REMOVE', uuid, { OldImage: old });
  }

  /** A record broken by hand (not from a write), with what must become of it. */
  raw(record: Record<string, unknown>, expectation: Expectation): void {
    this.records.push(record as unknown as LambdaStreamRecord);
    this.expectations.set(String(record.eventID), expectation);
  }
}

/** A valid compute node image, as the fleet writes it. */
export function nodeItem(n: number, overrides: Record<string, Image[string] | undefined> = {}): Image {
  const item: Record<string, Image[string] | undefined> = {
    id: { N: String(n) },
    uuid: { S: `fa170000-0000-4000-8000-${n.toString(16).padStart(12, '0')}` },
    host: { S: `compute-${n}` },
    vcpus: { N: '64' },
    memory_mb: { N: '262144' },
    local_gb: { N: '3576' },
    vcpus_used: { N: '8' },
    memory_mb_used: { N: '17000' },
    local_gb_used: { N: '160' },
    hypervisor_type: { S: 'QEMU' },
    hypervisor_version: { N: '8000000' },
    hypervisor_hostname: { S: `compute-${n}.example.org` },
    free_ram_mb: { N: '245144' },
    free_disk_gb: { N: '3416' },
    current_workload: { N: '0' },
    running_vms: { N: '2' },
    disk_available_least: { N: '3400' },
    host_ip: { S: `10.0.${(n >> 8) & 255}.${n & 255}` },
    deleted: { N: '0' },
    ...overrides,
  };
  return Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)) as Image;
}

/** The `fault_expect` attribute that tells the oracle what is wrong with an image. */
export function expectMarker(problems: ImageProblems): Record<string, Image[string]> {
  return { [EXPECT_ATTRIBUTE]: { S: JSON.stringify(problems) } };
}

export interface WorkloadWriter {
  put(item: Image): Promise<unknown> | unknown;
  update(uuid: string, changes: Record<string, Image[string] | undefined>): Promise<unknown> | unknown;
  remove(uuid: string): Promise<unknown> | unknown;
}

/**
 * `writes` writes over `nodes` nodes, seeded: creates, watched and unwatched changes, the same
 * number spelled differently, soft deletes and undeletes, hard deletes and re-creates, and
 * (at `invalidRate`) invalid writes, each marked for the oracle, later repaired. Writes to one
 * node are sequential; `concurrency` nodes are written at once.
 */
export async function randomWorkload(
  table: WorkloadWriter,
  opts: { nodes: number; writes: number; random: () => number; invalidRate?: number; firstNode?: number; concurrency?: number },
): Promise<number> {
  const r = opts.random;
  const first = opts.firstNode ?? 1;
  const state = new Map<number, Image | undefined>();
  const int = (min: number, max: number) => min + Math.floor(r() * (max - min + 1));
  const plan: { node: number; write: () => Promise<unknown> | unknown }[] = [];
  for (let i = 0; i < opts.writes; i++) {
    const n = first + Math.floor(r() * opts.nodes);
    const current = state.get(n);
    const uuid = nodeItem(n).uuid!.S as string;
    if (current === undefined) {
      const item = nodeItem(n, { vcpus_used: { N: String(int(0, 8)) } });
      state.set(n, item);
      plan.push({ node: n, write: () => table.put(item) });
      continue;
    }
    const roll = r();
    const live = current.deleted?.N === '0';
    let next: Image | undefined;
    if (current[EXPECT_ATTRIBUTE] !== undefined) {
      const { [EXPECT_ATTRIBUTE]: _m, ...rest } = current;
      next = { ...rest, vcpus: { N: '64' } }; // repair
    } else if (roll < (opts.invalidRate ?? 0.03)) {
      next = { ...current, vcpus: { N: '64.5' }, ...expectMarker({ invalid: ['vcpus'] }) };
    } else if (roll < 0.45) {
      next = { ...current, vcpus_used: { N: String(int(0, 64)) }, running_vms: { N: String(int(0, 20)) } };
    } else if (roll < 0.53) {
      next = { ...current, memory_mb_used: { N: String(int(1000, 200000)) } }; // unwatched only
    } else if (roll < 0.6) {
      next = { ...current, [MARKER]: { S: `run-${int(1, 3)}` } }; // a resync run's marker (a repeat of the last one asks for nothing)
    } else if (roll < 0.65) {
      const text = current.local_gb!.N as string;
      next = { ...current, local_gb: { N: text.endsWith('.0') ? text.slice(0, -2) : `${text}.0` } }; // same number, another spelling
    } else if (roll < 0.72) {
      next = { ...current, current_workload: { NULL: true } };
    } else if (roll < 0.8) {
      next = { ...current, hypervisor_hostname: { S: `h${int(0, 3)}.example.org` } };
    } else if (roll < 0.88) {
      next = { ...current, deleted: { N: live ? String(n) : '0' } }; // soft delete / undelete
    } else {
      state.set(n, undefined);
      plan.push({ node: n, write: () => table.remove(uuid) });
      continue;
    }
    state.set(n, next);
    const item = next;
    plan.push({ node: n, write: () => table.put(item) });
  }
  // Per node in order; nodes concurrently.
  const byNode = new Map<number, (() => Promise<unknown> | unknown)[]>();
  for (const p of plan) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p.write]);
  const queues = [...byNode.values()];
  let next = 0;
  const worker = async () => {
    while (next < queues.length) for (const w of queues[next++]!) await w();
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, worker));
  return plan.length;
}

// ---------------------------------------------------------------------------------------------
// The bus and the queue, without DynamoDB

export interface LocalServices {
  readonly bus: EventBusServer;
  readonly sqs: SqsServer;
  readonly queueUrl: string;
  /** Every event the bus accepted for its bus. */
  readonly delivered: DeliveredEvent[];
  /** The notifier's configuration for these servers. */
  config(env?: Record<string, string>): NotifierConfig;
  quarantined(): string[];
  close(): Promise<void>;
}

export const BUS_NAME = 'fault-bus';

export async function startLocalServices(): Promise<LocalServices> {
  const delivered: DeliveredEvent[] = [];
  const bus = await startEventBusServer({ busName: BUS_NAME, rules: [], targets: [], onEvent: (e) => void delivered.push(e) });
  const sqs = await startSqsServer({ queues: [QUARANTINE_QUEUE], maxMessageBytes: QUARANTINE_MAX_MESSAGE_BYTES });
  const queueUrl = sqs.queueUrl(QUARANTINE_QUEUE);
  return {
    bus,
    sqs,
    queueUrl,
    delivered,
    config: (env = {}) => loadConfig({ EVENT_BUS_NAME: bus.bus.busArn, QUARANTINE_QUEUE_URL: queueUrl, ...env }),
    quarantined: () => sqs.sqs.messages(QUARANTINE_QUEUE).map((m) => m.body),
    close: async () => {
      await Promise.all([bus.close(), sqs.close()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The event source mapping over one shard

export interface ShardRun {
  readonly onFailure: OnFailureRecord[];
  readonly outcomes: InvokeOutcome[];
  readonly read: number;
  readonly done: number;
}

/** Delivers the records in batches, in order, as Lambda's event source mapping does for one shard. */
export async function runShard(
  records: readonly LambdaStreamRecord[],
  handler: StreamHandler,
  opts: {
    batchSize?: number;
    maxRetries?: number;
    timeoutMs?: number;
    retryDelayMs?: (retry: number) => number;
    between?: (batch: number) => void;
    onInvoke?: (outcome: InvokeOutcome) => void;
  } = {},
): Promise<ShardRun> {
  const size = opts.batchSize ?? 100;
  const run = { onFailure: [] as OnFailureRecord[], outcomes: [] as InvokeOutcome[], read: 0, done: 0 };
  for (let i = 0; i < records.length; i += size) {
    opts.between?.(i / size);
    const batch = records.slice(i, i + size);
    run.read += batch.length;
    const result = await deliverBatch(batch, {
      handler,
      onFailure: (f) => void run.onFailure.push(f),
      shardId: 'shardId-fake',
      streamArn: FAKE_STREAM_ARN,
      maxRetries: opts.maxRetries ?? 1_000,
      timeoutMs: opts.timeoutMs ?? 60_000,
      retryDelayMs: opts.retryDelayMs ?? ((n) => Math.min(200, 10 * 2 ** (n - 1))),
      onInvoke: (_, outcome) => {
        run.outcomes.push(outcome);
        opts.onInvoke?.(outcome);
      },
    });
    run.done += result.delivered + result.failed;
  }
  return run;
}

/** The observation of a handler-level scenario, for `checkInvariants`. */
export function observeFake(scenario: string, table: FakeTable, services: LocalServices, run: ShardRun): Observation {
  return {
    scenario,
    writes: table.writes,
    records: table.records,
    table: table.items,
    delivered: services.delivered,
    quarantined: services.quarantined(),
    onFailure: run.onFailure,
    progress: { read: run.read, done: run.done },
  };
}

// ---------------------------------------------------------------------------------------------
// A whole handler-level scenario

export interface FakeScenario {
  readonly name: string;
  readonly nodes: number;
  readonly writes: number;
  readonly seed: number;
  readonly invalidRate?: number;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** The function's timeout. @default 60000 */
  readonly timeoutMs?: number;
  /** Extra records (broken by hand) after the workload. */
  readonly extra?: (table: FakeTable) => void;
  /** Sets the faults on the servers before the run (and may keep changing them). */
  readonly faults?: (services: LocalServices, runtime: LambdaRuntime) => void;
  /** Called before each batch is delivered (crashes, restarts, ending an outage). */
  readonly between?: (batch: number, services: LocalServices, runtime: LambdaRuntime, outcomes: readonly InvokeOutcome[]) => void;
  readonly maxRetries?: number;
  readonly imageProblems?: CheckOptions['imageProblems'];
  /** Notifier environment overrides. */
  readonly env?: Record<string, string>;
  /** The notifier's back-off sleeps this fraction of what it asks for (1: real time). @default 1 */
  readonly backoffScale?: number;
  /** Observes each invocation's outcome (ending an outage once records came back). */
  readonly onInvoke?: (outcome: InvokeOutcome, services: LocalServices, runtime: LambdaRuntime) => void;
}

export interface FakeScenarioResult {
  readonly report: InvariantReport;
  readonly run: ShardRun;
  readonly runtime: LambdaRuntime['stats'];
  readonly metrics: CountingMetrics;
  readonly bus: EventBusServer['bus']['stats'];
}

/** Generates the workload, delivers it through a fresh runtime to fresh servers, checks the invariants. */
export async function runFakeScenario(s: FakeScenario): Promise<FakeScenarioResult> {
  const services = await startLocalServices();
  const runtime = new LambdaRuntime({
    config: services.config(s.env),
    busEndpoint: services.bus.endpoint,
    sqsEndpoint: services.sqs.endpoint,
    timeoutMs: s.timeoutMs ?? 60_000,
    ...(s.backoffScale === undefined ? {} : { sleep: (ms: number) => realSleep(ms * s.backoffScale!) }),
  });
  try {
    const table = new FakeTable();
    await randomWorkload(table, { nodes: s.nodes, writes: s.writes, random: seededRandom(s.seed), invalidRate: s.invalidRate ?? 0.03 });
    s.extra?.(table);
    s.faults?.(services, runtime);
    const outcomes: InvokeOutcome[] = [];
    const run = await runShard(table.records, runtime.handler, {
      batchSize: s.batchSize ?? 100,
      timeoutMs: s.timeoutMs ?? 60_000,
      ...(s.maxRetries === undefined ? {} : { maxRetries: s.maxRetries }),
      between: (batch) => s.between?.(batch, services, runtime, outcomes),
      onInvoke: (o) => {
        outcomes.push(o);
        s.onInvoke?.(o, services, runtime);
      },
    });
    services.bus.bus.faults = undefined;
    services.sqs.sqs.faults = undefined;
    // A request a dead instance left behind (delayed by a fault) still lands: let it.
    await waitUntil(() => services.bus.pending() === 0 && services.sqs.pending() === 0, 'the servers to finish the requests in hand', 30_000);
    const report = checkInvariants(observeFake(s.name, table, services, run), {
      recordExpectations: table.expectations,
      ...(s.imageProblems === undefined ? {} : { imageProblems: s.imageProblems }),
    });
    return { report, run, runtime: { ...runtime.stats }, metrics: runtime.metrics, bus: { ...services.bus.bus.stats } };
  } finally {
    runtime.close();
    await services.close();
  }
}

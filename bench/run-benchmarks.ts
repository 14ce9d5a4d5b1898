/**
 * All measurements in one run, in one result object (`bench/results.json`); `tiny` runs each
 * on a tiny input in a few seconds, for the smoke test.
 *
 * @example
 * ```ts
 * const results = await runBenchmarks({ tiny: true });
 * console.log(renderMarkdown(results));
 * ```
 */
import { cpus, loadavg } from 'node:os';
import { measureColdStart, type ColdStartResult } from './cold-start.js';
import { measureGlobalEndpointColdStart, type GlobalEndpointColdStartResult } from './cold-start-global-endpoint.js';
import { FLEET_ASSUMPTIONS, fleetRateRows, fleetScale, type FleetRateRow, type FleetResult } from './fleet.js';
import { measureNotificationRates, type NotificationRates } from './notification-rate.js';
import { measureBatch, measureHandlerCpu, type HandlerCpuResult } from './handler-cpu.js';
import { benchNotifier } from './harness.js';
import { measureMemory, type MemoryResult } from './memory.js';
import { measurePutEventsRequests, type PutEventsRequestsResult } from './put-events-requests.js';
import { FLEET_MIX } from './record-mix.js';
import { measureSlowBus, type SlowBusResult } from './slow-bus.js';
import { evaluateGoals, type Goal, type Measured } from './results.js';
import { measureIndexer, type IndexerMeasurement } from './indexer.js';
import { measurePeers } from './peers.js';
import { measureBatchingWindow } from './batching-window.js';
import { capacityMixesFrom, measureCapacity } from './capacity.js';

export interface BenchOptions {
  /** Tiny inputs, one or few repetitions: checks that everything runs, measures nothing. */
  readonly tiny?: boolean;
  /** Progress lines (to stderr). */
  readonly log?: (line: string) => void;
}

export interface BenchResults extends Measured {
  readonly schema: 'hypervisor-notifier-bench/1';
  readonly tiny: boolean;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpus: number;
    readonly cpuModel: string;
    /** 1-minute load average when the run started and when it ended (the machine is shared). */
    readonly loadAverage: { readonly start: number; readonly end: number };
  };
  readonly goals: readonly Goal[];
  /** The reference indexer on DynamoDB Local: load and query times on a generated fleet. */
  readonly indexer: IndexerMeasurement;
  /** The default stack's notification rate in two record mixes, exact and with resolution (absent from runs before it existed). */
  readonly notificationRates?: NotificationRates;
  /** The fleet's bill at those rates (§7's model). */
  readonly fleetRates?: readonly FleetRateRow[];
  /** §5b: the global endpoint option's cold start, off and on (absent from runs before it existed). */
  readonly coldStartGlobalEndpoint?: GlobalEndpointColdStartResult;
}

export async function runBenchmarks(opts: BenchOptions = {}): Promise<BenchResults> {
  const tiny = opts.tiny === true;
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const loadAtStart = loadavg()[0]!;

  log('1-2. handler CPU per record, floor, creates-only vs Nova');
  const handlerCpu = await measureHandlerCpu({ sizes: tiny ? [20] : [100, 1000], tiny });

  log('7 (input). handler CPU for the fleet mix');
  const fleetBatch = await measureBatch(benchNotifier(), tiny ? 20 : FLEET_ASSUMPTIONS.batchSize, FLEET_MIX, tiny);

  log('3. PutEvents requests per notification');
  const putEventsRequests = await measurePutEventsRequests({ tiny });

  log('4. batch latency with a slow bus');
  const slowBus = await measureSlowBus({ records: tiny ? 50 : 1000, delayMs: 20, tiny });

  log('4b. peers: the baseline user notifier on the same batches');
  const peers = await measurePeers({ handlerCpu, slowBus, tiny });

  log('4c. latency against cost: batching window 0 and 1 s');
  const batchingWindow = await measureBatchingWindow({ tiny });

  log('5. cold start');
  const coldStart = await measureColdStart({ runs: tiny ? 1 : 11 });

  log('5b. cold start with the global endpoint option off and on');
  const coldStartGlobalEndpoint = await measureGlobalEndpointColdStart({ runs: tiny ? 1 : 21 });

  log('6. memory');
  const memory = tiny
    ? await measureMemory({ peakRecords: 50, batches: 6, recordsPerBatch: 20 })
    : await measureMemory({ peakRecords: 10_000, batches: 300, recordsPerBatch: 1000 });

  log('8. reference indexer: load and query a generated fleet on DynamoDB Local');
  const indexer = await measureIndexer({ nodes: tiny ? 500 : 100_000, runs: tiny ? 3 : 50, log });

  const fleet = fleetScale({
    records: fleetBatch.records,
    cpuUsPerRecord: fleetBatch.cpuUsPerRecord,
    notificationsPerBatch: fleetBatch.notifications,
    putEventsRequestsPerBatch: fleetBatch.putEventsRequests,
    entryBytes: fleetBatch.meanEntryBytes,
  });

  log('7a. the default stack\'s notification rate: fleet simulator, two record mixes, exact and with resolution');
  const notificationRates = await measureNotificationRates(tiny ? { nodes: 20, ticks: 100 } : {});
  const fleetRates = fleetRateRows(notificationRates.mixes, fleet.measured);

  log('7b. capacity: the fleet demand on each quota, by region class, at the rates of 7a');
  const capacity = await measureCapacity({ tiny, mixes: capacityMixesFrom(notificationRates.mixes) });

  const cpu = cpus();
  const partial = { handlerCpu, putEventsRequests, slowBus, peers, batchingWindow, coldStart, memory, fleet, capacity, indexer };
  return {
    schema: 'hypervisor-notifier-bench/1',
    tiny,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    machine: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      loadAverage: { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0]! * 100) / 100 },
    },
    goals: evaluateGoals(partial),
    ...partial,
    notificationRates,
    fleetRates,
    coldStartGlobalEndpoint,
  };
}

/**
 * What every soak scenario is: a name, a line saying what it does, and a run that ends with
 * the invariant report (`test/faults/invariants.ts`, the same checker the fault tests use).
 */
import { checkInvariants, type CheckOptions, type Expectation, type InvariantReport } from '../test/faults/invariants.js';
import { observePipeline, startFaultPipeline, type FaultPipeline, type FaultPipelineOptions } from '../test/faults/pipeline-support.js';

export interface SoakOptions {
  readonly seed: number;
  /** How long the fleet simulator runs. */
  readonly fleetSeconds: number;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
}

export interface SoakOutcome {
  readonly report: InvariantReport;
  /** What was injected (`FaultLog.summary()`), and what the runtime went through. */
  readonly faults: string;
  readonly notes: readonly string[];
  /** Records the automatic redrive published (scenarios that run it). */
  readonly redriven?: number;
}

export interface SoakScenario {
  readonly name: string;
  readonly what: string;
  run(o: SoakOptions): Promise<SoakOutcome>;
}

/** Runs `body` on a fresh pipeline (its own DynamoDB Local), stopping it whatever happens. */
export async function withPipeline<T>(opts: FaultPipelineOptions, body: (f: FaultPipeline) => Promise<T>): Promise<T> {
  const f = await startFaultPipeline(opts);
  try {
    return await body(f);
  } finally {
    await f.stop();
  }
}

/** Waits for the pipeline to catch up, reads stream and table, checks the invariants. */
export async function finish(
  name: string,
  f: FaultPipeline,
  writes: number,
  opts: CheckOptions & { expectAll?: Expectation } = {},
): Promise<InvariantReport> {
  const observation = await observePipeline(name, f, writes, 600_000);
  const recordExpectations = opts.expectAll === undefined ? opts.recordExpectations : new Map(observation.records.map((r) => [String(r.eventID), opts.expectAll!] as const));
  return checkInvariants(observation, { ...opts, ...(recordExpectations === undefined ? {} : { recordExpectations }) });
}

/** `a=1 b=2` of the runtime's counters that are not zero. */
export function runtimeSummary(f: FaultPipeline): string {
  return Object.entries(f.runtime.stats)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Lets the fleet or a workload crash the function now and then (once its first PutEvents request is answered). */
export function crashSometimes(f: () => FaultPipeline | undefined, rate: number, random: () => number): () => void {
  return () => {
    const p = f();
    if (p !== undefined && random() < rate) p.runtime.crashNextInvocation(1);
  };
}

/**
 * Runs `step`, waits `pauseMs`, and again, until `stop` is called; `stop` resolves once the step
 * in progress has finished (rejects if a step failed) and may be called again.
 */
export function repeatUntilStopped(step: () => Promise<void>, pauseMs: number): { stop(): Promise<void> } {
  let going = true;
  const loop = (async () => {
    while (going) {
      await step();
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    stop: () => {
      going = false;
      return loop;
    },
  };
}

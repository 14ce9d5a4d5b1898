/**
 * The capacity model: what a fleet of compute nodes asks of each quota in the pipeline
 * (stream, function, PutEvents, rule invocations), and which quota it reaches first. A pure
 * function of its inputs, shared by `npm run bench` (bench/capacity.ts) and the synth warning
 * (infra/capacity-check.ts). Quotas come from infra/capacity-quotas.ts.
 *
 * Every rate is linear in the fleet size, so the fleet size at which a quota is reached is
 * `computeNodes × quota / demand`.
 *
 * @example
 * ```ts
 * const d = capacityDemand({ ...DEFAULT_CAPACITY_INPUTS, computeNodes: 1_000_000, fractionNotified: 0.1, rules: 3 });
 * const w = walls(d, quotasFor('eu-north-1')); // w[0] is the first limit reached
 * ```
 */
import { LAMBDA_DEFAULT_CONCURRENCY, PARTITION_WRITE_UNITS_PER_SECOND, QUOTA_TABLE, type QuotaKey, type RegionQuotas } from './capacity-quotas.js';

/** PutEvents takes at most this many entries a request (the notifier packs up to it). */
export const ENTRIES_PER_PUT_EVENTS_REQUEST = 10;

export interface CapacityInputs {
  readonly computeNodes: number;
  /** Nova's resource tracker period (update_available_resource, default 60 s). */
  readonly reportIntervalSeconds: number;
  /** Reports that change the item and so make a stream record (a write that changes nothing makes none). */
  readonly fractionOfReportsWritten: number;
  /** Stream records that become a notification (the rest are suppressed): the record mix's figure. */
  readonly fractionNotified: number;
  /**
   * Rules on the bus each notification matches (indexer routes, consumers' own rules, the
   * archive's rule): each match is one rule invocation. Counting every rule for every
   * notification is the upper bound; a route filtering on `changed_fields` matches fewer.
   */
  readonly rules: number;
  /** Records per invocation (the event source mapping's batch size; batches assumed full). */
  readonly batchSize: number;
  /** Concurrent batches per shard (the mapping's parallelization factor). */
  readonly parallelizationFactor: number;
  /** DynamoDB write units a report's write takes (1 up to 1 KB items). */
  readonly writeUnitsPerRecord: number;
  /** The function's billed duration per invocation, for its concurrency; undefined when not known. */
  readonly billedMsPerInvocation: number | undefined;
}

/** The stack's defaults (cdk.json) with Nova's reporting period; fleet size, mix and rules are the caller's. */
export const DEFAULT_CAPACITY_INPUTS: Omit<CapacityInputs, 'computeNodes' | 'fractionNotified' | 'rules'> = {
  reportIntervalSeconds: 60,
  fractionOfReportsWritten: 1,
  batchSize: 100,
  parallelizationFactor: 1,
  writeUnitsPerRecord: 1,
  billedMsPerInvocation: undefined,
};

export interface CapacityDemand {
  readonly inputs: CapacityInputs;
  readonly streamRecordsPerSecond: number;
  readonly writeUnitsPerSecond: number;
  /** Stream shards at least (one per DynamoDB partition; a partition takes 1,000 write units a second). */
  readonly shards: number;
  readonly notificationsPerSecond: number;
  readonly lambdaInvocationsPerSecond: number;
  /** PutEvents requests per invocation: ⌈notifications per batch / 10⌉. */
  readonly putEventsRequestsPerInvocation: number;
  readonly putEventsRequestsPerSecond: number;
  readonly ruleInvocationsPerSecond: number;
  /** Concurrent executions of the notifier (invocations a second × billed seconds each); undefined without a duration. */
  readonly lambdaConcurrency: number | undefined;
}

/** What the fleet of `i` asks of each quota. */
export function capacityDemand(i: CapacityInputs): CapacityDemand {
  for (const [name, value] of Object.entries(i)) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`capacity input ${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
  if (i.batchSize < 1 || i.reportIntervalSeconds <= 0) throw new RangeError('capacity inputs batchSize must be ≥ 1 and reportIntervalSeconds > 0');
  const streamRecordsPerSecond = (i.computeNodes / i.reportIntervalSeconds) * i.fractionOfReportsWritten;
  const writeUnitsPerSecond = streamRecordsPerSecond * i.writeUnitsPerRecord;
  const notificationsPerSecond = streamRecordsPerSecond * i.fractionNotified;
  const lambdaInvocationsPerSecond = streamRecordsPerSecond / i.batchSize;
  // Each invocation packs its own notifications: a batch with 1 notification still costs a request.
  const putEventsRequestsPerInvocation = Math.ceil((i.batchSize * i.fractionNotified) / ENTRIES_PER_PUT_EVENTS_REQUEST);
  return {
    inputs: i,
    streamRecordsPerSecond,
    writeUnitsPerSecond,
    shards: Math.max(1, Math.ceil(writeUnitsPerSecond / PARTITION_WRITE_UNITS_PER_SECOND)),
    notificationsPerSecond,
    lambdaInvocationsPerSecond,
    putEventsRequestsPerInvocation,
    putEventsRequestsPerSecond: lambdaInvocationsPerSecond * putEventsRequestsPerInvocation,
    ruleInvocationsPerSecond: notificationsPerSecond * i.rules,
    lambdaConcurrency: i.billedMsPerInvocation === undefined ? undefined : lambdaInvocationsPerSecond * (i.billedMsPerInvocation / 1000),
  };
}

/** One quota against the fleet's demand. */
export interface Wall {
  readonly key: QuotaKey;
  readonly demand: number;
  readonly quota: number;
  /** demand / quota. */
  readonly used: number;
  /** Fleet size at which demand reaches the quota (Infinity: never; 0: at any size). */
  readonly fleetSizeAtQuota: number;
  /** What to do, in order of preference. */
  readonly remedy: string;
}

/** What to do at each wall; the synth warning says the same. */
export const REMEDIES: Record<Exclude<QuotaKey, 'partitionWrites'>, string> = {
  putEvents:
    `request a PutEvents quota increase (adjustable, Service Quotas ${QUOTA_TABLE.putEvents.code}); send fewer notifications (field resolutions, fewer watched fields); ` +
    'fill each request: with few notifications per batch, a larger batchSize or maxBatchingWindow puts more of the 10 entries in each request',
  invocations:
    `request an invocations quota increase (adjustable, Service Quotas ${QUOTA_TABLE.invocations.code}); send fewer notifications (field resolutions); ` +
    'fewer or broader routes (each rule a notification matches is one invocation); or fan out through a second bus in another account or region (one forwarding rule here, the routes on the quota there)',
  lambdaConcurrency:
    `request a concurrency increase (adjustable, Service Quotas ${QUOTA_TABLE.lambdaConcurrency.code}) and reserve concurrency for the notifier; shorter invocations (fewer PutEvents waits: fewer notifications)`,
  rulesPerBus: `request a rules quota increase (adjustable, Service Quotas ${QUOTA_TABLE.rulesPerBus.code}); broader routes; or a second bus for some consumers`,
};

/**
 * Every quota against the demand of `d` in a region with quotas `q`, the first reached first
 * (smallest fleet size at the quota; ties keep the order PutEvents, invocations, concurrency, rules).
 */
export function walls(d: CapacityDemand, q: RegionQuotas): Wall[] {
  const n = d.inputs.computeNodes;
  const linear = (key: Exclude<QuotaKey, 'partitionWrites' | 'rulesPerBus'>, demand: number, quota: number): Wall => ({
    key,
    demand,
    quota,
    used: demand / quota,
    // Demand is linear in the fleet; none at all never reaches the quota.
    fleetSizeAtQuota: demand === 0 ? Infinity : (n * quota) / demand,
    remedy: REMEDIES[key],
  });
  const list: Wall[] = [
    linear('putEvents', d.putEventsRequestsPerSecond, q.putEventsPerSecond),
    linear('invocations', d.ruleInvocationsPerSecond, q.invocationsPerSecond),
  ];
  if (d.lambdaConcurrency !== undefined) list.push(linear('lambdaConcurrency', d.lambdaConcurrency, LAMBDA_DEFAULT_CONCURRENCY));
  const rules = d.inputs.rules;
  // The rule count does not grow with the fleet: over the quota at any size, or never.
  list.push({ key: 'rulesPerBus', demand: rules, quota: q.rulesPerBus, used: rules / q.rulesPerBus, fleetSizeAtQuota: rules > q.rulesPerBus ? 0 : Infinity, remedy: REMEDIES.rulesPerBus });
  return list.map((w, index) => ({ w, index })).sort((a, b) => a.w.fleetSizeAtQuota - b.w.fleetSizeAtQuota || a.index - b.index).map((x) => x.w);
}

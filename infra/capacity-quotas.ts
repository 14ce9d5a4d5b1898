/**
 * The default AWS quotas that bound how large a fleet one deployment can carry, by region:
 * the one table the capacity model (`bench/capacity.ts`) and the synth warning
 * (`infra/capacity-check.ts`) read. Each figure is AWS's published default, with the page it
 * was read from and the date it was read; an account may have been granted more (Service
 * Quotas shows the applied value), a new account may have less.
 */

/** When the pages below were read. */
export const QUOTAS_READ_ON = '2026-12-04';

/** A page a quota figure was read from. */
export interface QuotaSource {
  readonly title: string;
  readonly url: string;
  readonly read: string;
}

const EVENTBRIDGE_QUOTAS: QuotaSource = {
  title: 'Amazon EventBridge quotas (Custom Event Bus - Classic quotas)',
  url: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
  read: QUOTAS_READ_ON,
};
const DYNAMODB_PARTITION: QuotaSource = {
  title: 'Amazon DynamoDB developer guide, warm throughput scenarios: a partition takes at most 1,000 write units (and 3,000 read units) a second',
  url: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html',
  read: QUOTAS_READ_ON,
};
const LAMBDA_QUOTAS: QuotaSource = {
  title: 'AWS Lambda developer guide, Lambda quotas: concurrent executions 1,000 by default, "can be increased up to tens of thousands"; new accounts have less',
  url: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
  read: QUOTAS_READ_ON,
};

/**
 * Regions sharing the same EventBridge defaults. AWS's page lists PutEvents and invocations per
 * region; the regions it names with the same pair of figures form one class, and "each of the
 * other supported Regions" is the last class.
 */
export interface RegionClass {
  readonly id: string;
  /** The regions AWS names with these figures; empty for the class of every other region. */
  readonly regions: readonly string[];
  /** "PutEvents throttle limit in transactions per second" (requests, account-wide per region). Adjustable. */
  readonly putEventsPerSecond: number;
  /** "Invocations throttle limit in transactions per second": an event matching a rule and sent on to its targets. Adjustable. */
  readonly invocationsPerSecond: number;
  /** "Number of rules" per event bus. Adjustable. */
  readonly rulesPerBus: number;
}

/** EventBridge's defaults by region class, from {@link QUOTA_TABLE}'s source, highest first. */
export const REGION_CLASSES: readonly RegionClass[] = [
  { id: 'large', regions: ['us-east-1', 'us-west-2', 'eu-west-1'], putEventsPerSecond: 10_000, invocationsPerSecond: 18_750, rulesPerBus: 300 },
  { id: 'upper', regions: ['us-east-2', 'eu-central-1', 'eu-south-2'], putEventsPerSecond: 2_400, invocationsPerSecond: 4_500, rulesPerBus: 300 },
  {
    id: 'middle',
    regions: ['us-west-1', 'ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2', 'eu-west-2'],
    putEventsPerSecond: 1_200,
    invocationsPerSecond: 2_250,
    rulesPerBus: 300,
  },
  {
    id: 'lower',
    regions: ['ap-east-1', 'ap-northeast-2', 'ap-south-1', 'ca-central-1', 'eu-north-1', 'eu-west-3', 'sa-east-1'],
    putEventsPerSecond: 600,
    invocationsPerSecond: 1_100,
    rulesPerBus: 300,
  },
  { id: 'other', regions: [], putEventsPerSecond: 400, invocationsPerSecond: 750, rulesPerBus: 300 },
];

/** Regions whose rule quota is 100 a bus instead of 300 (same page). */
const FEWER_RULES = new Set(['af-south-1', 'eu-south-1']);

/** A quota that can stop the pipeline, as AWS publishes it. */
export interface Quota {
  readonly name: string;
  /** Service Quotas code, for the increase request. */
  readonly code: string | undefined;
  readonly adjustable: boolean;
  /** What happens past it. */
  readonly pastIt: string;
  readonly source: QuotaSource;
}

/** Every quota the model compares demand against, by key. */
export const QUOTA_TABLE = {
  putEvents: {
    name: 'PutEvents throttle limit in transactions per second',
    code: 'L-9B653E91',
    adjustable: true,
    pastIt: 'PutEvents requests are refused with ThrottlingException; the notifier retries them within the invocation, then hands the records back to the stream',
    source: EVENTBRIDGE_QUOTAS,
  },
  invocations: {
    name: 'Invocations throttle limit in transactions per second',
    code: 'L-5540C5E3',
    adjustable: true,
    pastIt: '"the invocations are throttled; that is, they still happen but they are delayed" (EventBridge retries delivery for up to 24 hours)',
    source: EVENTBRIDGE_QUOTAS,
  },
  rulesPerBus: {
    name: 'Number of rules',
    code: 'L-244521F2',
    adjustable: true,
    pastIt: 'PutRule fails: the deployment of one more route fails',
    source: EVENTBRIDGE_QUOTAS,
  },
  partitionWrites: {
    name: 'Write units per second per DynamoDB partition (1,000)',
    code: undefined,
    adjustable: false,
    pastIt: 'DynamoDB splits the table into more partitions, so the stream has more shards (the table scales; only a hot partition throttles)',
    source: DYNAMODB_PARTITION,
  },
  lambdaConcurrency: {
    name: 'Concurrent executions (Lambda, per account and region, shared by every function)',
    code: 'L-B99A9384',
    adjustable: true,
    pastIt: 'invocations are throttled: stream batches wait, iterator age rises',
    source: LAMBDA_QUOTAS,
  },
} as const satisfies Record<string, Quota>;

export type QuotaKey = keyof typeof QUOTA_TABLE;

/** Write units a DynamoDB partition takes a second (QUOTA_TABLE.partitionWrites). */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1_000;
/** Lambda's default concurrent executions per account and region (QUOTA_TABLE.lambdaConcurrency). */
export const LAMBDA_DEFAULT_CONCURRENCY = 1_000;

/** The quotas of one region: its class, and its own rule quota. */
export interface RegionQuotas extends RegionClass {
  /** The region asked for, or undefined when it is not known (an environment-agnostic stack). */
  readonly region: string | undefined;
}

/**
 * The default quotas of `region`. An unknown region (a token, or undefined) gets the lowest
 * class: the defaults that hold everywhere.
 */
export function quotasFor(region: string | undefined): RegionQuotas {
  const lowest = REGION_CLASSES[REGION_CLASSES.length - 1]!;
  if (region === undefined) return { ...lowest, region: undefined };
  const cls = REGION_CLASSES.find((c) => c.regions.includes(region)) ?? lowest;
  return { ...cls, region, rulesPerBus: FEWER_RULES.has(region) ? 100 : cls.rulesPerBus };
}

/** Every source, once, for a citation list. */
export function quotaSources(): QuotaSource[] {
  const seen = new Map<string, QuotaSource>();
  for (const q of Object.values(QUOTA_TABLE)) seen.set(q.source.url, q.source);
  return [...seen.values()];
}

/**
 * `CapacityCheck`: a synth-time warning when the deployment's own numbers (its rules on the bus
 * and, when given, the fleet it expects) put it within half of a default quota of its region
 * (infra/capacity-quotas.ts), naming the quota and what to do. It adds no resource: it reads the
 * configuration once every route is declared (an aspect, run at synth) and warns.
 */
import { Annotations, Aspects, Stack, Token, type IAspect } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { capacityDemand, DEFAULT_CAPACITY_INPUTS, walls, type Wall } from './capacity-model.js';
import { QUOTA_TABLE, quotasFor } from './capacity-quotas.js';

/** A quota this close to its default (demand / quota) draws the warning. */
export const CAPACITY_WARNING_FRACTION = 0.5;

export interface CapacityCheckProps {
  /** Rules on the bus each notification may match, counted at synth (routes are added after construction). */
  readonly rules: () => number;
  /** Compute nodes the deployment expects. @default - unknown: only the rules per bus are checked */
  readonly expectedComputeNodes?: number;
  /**
   * Stream records that become notifications. @default 1 (every report notified: the bound; the
   * default watched fields come close to it on a fleet whose usage fields drift, see docs/capacity.md)
   */
  readonly expectedNotifiedFraction?: number;
  /** The event source mapping's batch size. @default 100 */
  readonly batchSize?: number;
}

/** Warning ids (`cdk synth` prints them; `--acknowledge`-able by id). */
export const CAPACITY_WARNING_IDS = {
  putEvents: 'hypervisor-notifications:capacity-put-events',
  invocations: 'hypervisor-notifications:capacity-rule-invocations',
  rulesPerBus: 'hypervisor-notifications:capacity-rules-per-bus',
} as const;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export class CapacityCheck extends Construct {
  constructor(scope: Construct, id: string, private readonly props: CapacityCheckProps) {
    super(scope, id);
    if (props.expectedComputeNodes !== undefined && !(Number.isInteger(props.expectedComputeNodes) && props.expectedComputeNodes >= 0)) {
      throw new RangeError(`expectedComputeNodes must be a whole number of nodes ≥ 0, got ${props.expectedComputeNodes}`);
    }
    const f = props.expectedNotifiedFraction;
    if (f !== undefined && !(f > 0 && f <= 1)) throw new RangeError(`expectedNotifiedFraction must be a fraction of records in (0, 1], got ${f}`);
    const self = this;
    const aspect: IAspect = {
      visit(node: IConstruct): void {
        if (node === self) self.warn();
      },
    };
    Aspects.of(this).add(aspect);
  }

  /** The quotas within {@link CAPACITY_WARNING_FRACTION} of their default in this stack's region. */
  check(): Wall[] {
    const p = this.props;
    const regionToken = Stack.of(this).region;
    const region = Token.isUnresolved(regionToken) ? undefined : regionToken;
    const demand = capacityDemand({
      ...DEFAULT_CAPACITY_INPUTS,
      computeNodes: p.expectedComputeNodes ?? 0,
      fractionNotified: p.expectedNotifiedFraction ?? 1,
      rules: p.rules(),
      batchSize: p.batchSize ?? DEFAULT_CAPACITY_INPUTS.batchSize,
    });
    return walls(demand, quotasFor(region)).filter((w) => w.key !== 'lambdaConcurrency' && w.used >= CAPACITY_WARNING_FRACTION);
  }

  private warn(): void {
    const p = this.props;
    const regionToken = Stack.of(this).region;
    const where = Token.isUnresolved(regionToken) ? 'a region not known at synth (the lowest defaults assumed; set the stack\'s env.region)' : regionToken;
    const fleet =
      p.expectedComputeNodes === undefined
        ? ''
        : `${fmt(p.expectedComputeNodes)} compute nodes reporting every ${DEFAULT_CAPACITY_INPUTS.reportIntervalSeconds} s, ${Math.round((p.expectedNotifiedFraction ?? 1) * 100)} % of records notified, `;
    for (const w of this.check()) {
      if (w.key === 'lambdaConcurrency' || w.key === 'partitionWrites') continue;
      const q = QUOTA_TABLE[w.key];
      const unit = w.key === 'rulesPerBus' ? 'rules on the bus' : w.key === 'putEvents' ? 'PutEvents requests a second' : 'rule invocations a second';
      Annotations.of(this).addWarningV2(
        CAPACITY_WARNING_IDS[w.key],
        `Capacity: ${fleet}${fmt(p.rules())} rule(s) per notification: ${fmt(w.demand)} ${unit}, ${Math.round(w.used * 100)} % of the default '${q.name}' in ${where} (${fmt(w.quota)}). ` +
          `Past it: ${q.pastIt}. What to do: ${w.remedy}. See docs/capacity.md.`,
      );
    }
  }
}

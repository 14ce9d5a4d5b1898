/**
 * The local event bus: a loopback HTTP server speaking EventBridge's PutEvents and
 * DescribeEventBus (AWS JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`), so the notifier's
 * real `EventBridgeClient` publishes to it with only `endpoint` changed. PutRule, PutTargets,
 * RemoveTargets and DeleteRule add and remove rules of its own next to the template's (what
 * `npm run smoke` needs), delivering to targets by ARN through `deliverToArn`.
 *
 * Entries are checked the way EventBridge checks them: at most 10 a request and the request
 * under 256 KB as EventBridge counts it (else the whole request is a ValidationException);
 * per entry, `Source`, `DetailType` and `Detail` present, `Detail` a JSON object, its
 * integers within the signed 64-bit range (else that entry fails with an error code and the
 * others go through; the answer is still HTTP 200). Each accepted entry becomes the event
 * as delivered to targets and goes through the rules of the synthesized template; every
 * match is delivered to the rule's targets.
 *
 * @example
 * ```ts
 * const bus = await startEventBusServer({ busName: 'local', rules: deployment.rules, targets: [sink] });
 * new EventBridgeClient({ endpoint: bus.endpoint, region, credentials });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { compilePattern, type CompiledPattern } from './event-pattern/index.js';
import { entrySize, MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_SIZE } from '../functions/notifier/put-events-entry.js';
import { AwsServiceError, startAwsJsonServer, type RequestFault, type RunningServer } from './aws-json-server.js';
import { firstInt64Overflow } from './json-integers.js';
import type { TemplateRule } from './stack-template.js';
import { InvocationThrottle, type InvocationThrottleStats } from './invocation-throttle.js';
import type { DeliveredEvent, Delivery, EventTarget } from './targets.js';
import { LOCAL_ACCOUNT, LOCAL_AWS } from './local-aws.js';

interface CompiledRule {
  readonly rule: TemplateRule;
  readonly pattern: CompiledPattern;
}

export interface EventBusOptions {
  /** The bus's name; entries naming another bus are accepted and reach no rule (as on AWS). */
  readonly busName: string;
  readonly rules: readonly TemplateRule[];
  readonly targets: readonly EventTarget[];
  readonly account?: string;
  readonly region?: string;
  /** Observes every accepted event with the rules it matched (the terminal printer, statistics). */
  readonly onEvent?: (event: DeliveredEvent, matchedRules: readonly string[], receivedAt: number) => void;
  /** Observes every refused entry. */
  readonly onRejected?: (entry: unknown, errorCode: string, errorMessage: string) => void;
  readonly port?: number;
  /** Faults to inject from the start (see {@link EventBusFaults}); settable later as `bus.faults`. */
  readonly faults?: EventBusFaults;
  /**
   * Delivers an event to a target given by ARN (a rule made with PutRule/PutTargets, e.g. by
   * `npm run smoke`); answers false when no such target exists here (the delivery fails, as on AWS).
   */
  readonly deliverToArn?: (arn: string, eventJson: string) => boolean;
  /**
   * Rule invocations a second, as EventBridge's "Invocations throttle limit in transactions per
   * second": past it an invocation (an event matching a rule, sent to the rule's targets) is
   * delayed, never dropped. Settable later with `throttleInvocations`.
   * @default - no limit
   */
  readonly invocationsPerSecond?: number;
}

/** A rule made through the API (PutRule/PutTargets), as opposed to one read from the template. */
interface ApiRule {
  readonly name: string;
  readonly pattern: CompiledPattern;
  readonly enabled: boolean;
  /** Target Id → ARN. */
  readonly targets: Map<string, string>;
}

const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;

/**
 * Fault injection (tests and the soak): consulted per request and per entry. Faults are
 * only ever set by tests; with none the bus behaves as described above.
 */
export interface EventBusFaults {
  /** Per request (`PutEvents`, `DescribeEventBus`): an error, a dropped or hung connection, a delay. */
  request?(operation: string, input: Record<string, unknown>): RequestFault | undefined;
  /** Per PutEvents entry that passed validation: answer this error for it instead of accepting it. */
  entry?(entry: Readonly<Record<string, unknown>>, index: number): { ErrorCode: string; ErrorMessage: string } | undefined;
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

interface RequestEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  Time?: unknown;
  EventBusName?: unknown;
}

/** EventBridge's `time`: RFC 3339, seconds precision, `Z`. */
function eventTime(time: unknown, now: number): string {
  let ms = now;
  if (typeof time === 'number' && Number.isFinite(time)) ms = time * 1000;
  else if (typeof time === 'string' && !Number.isNaN(Date.parse(time))) ms = Date.parse(time);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export class LocalEventBus {
  readonly account: string;
  readonly region: string;
  readonly busArn: string;
  private readonly rules: CompiledRule[];
  private readonly apiRules = new Map<string, ApiRule>();
  /** `toOtherBus`: entries accepted for a bus that is not here (another, or this one deleted), which reach no rule. */
  readonly stats = { requests: 0, accepted: 0, rejected: 0, deliveries: 0, toOtherBus: 0, injected: 0 };
  /** Faults to inject; undefined (the default) for none. */
  faults: EventBusFaults | undefined;
  /**
   * The bus deleted (set by tests): DescribeEventBus answers ResourceNotFoundException for it,
   * and PutEvents entries naming it are answered success and reach no rule, as EventBridge
   * answers for a bus that does not exist. False again: the bus made again, with its rules.
   */
  deleted = false;
  private throttle: InvocationThrottle | undefined;
  /** Throttles replaced by `throttleInvocations` while invocations still waited in them. */
  private readonly retired: InvocationThrottle[] = [];

  constructor(private readonly opts: EventBusOptions) {
    this.faults = opts.faults;
    if (opts.invocationsPerSecond !== undefined) this.throttle = new InvocationThrottle(opts.invocationsPerSecond);
    this.account = opts.account ?? LOCAL_ACCOUNT;
    this.region = opts.region ?? LOCAL_AWS.region;
    this.busArn = `arn:aws:events:${this.region}:${this.account}:event-bus/${opts.busName}`;
    this.rules = opts.rules.filter((r) => r.enabled).map((rule) => ({ rule, pattern: compilePattern(rule.eventPattern) }));
  }

  /**
   * Limits rule invocations to `perSecond` (undefined: no limit). Invocations already waiting
   * under a previous limit keep their place under it until they run.
   */
  throttleInvocations(perSecond: number | undefined): void {
    const previous = this.throttle;
    this.throttle = perSecond === undefined ? undefined : new InvocationThrottle(perSecond);
    if (previous !== undefined) this.retired.push(previous);
  }

  /** Rule invocations so far under the current limit, and how many wait now (under any limit). */
  get invocations(): InvocationThrottleStats & { pending: number } {
    const stats = this.throttle?.stats ?? { invocations: 0, delayed: 0, maxDelayMs: 0 };
    return { ...stats, pending: [this.throttle, ...this.retired].reduce((n, t) => n + (t?.pending ?? 0), 0) };
  }

  /** Resolves once no rule invocation waits. */
  async whenInvocationsDelivered(): Promise<void> {
    await Promise.all([this.throttle, ...this.retired].map((t) => t?.whenIdle()));
  }

  /** Stops the throttle's clock; returns how many invocations were still waiting (they are not delivered). */
  stopInvocations(): number {
    const left = [this.throttle, ...this.retired].reduce((n, t) => n + (t?.close() ?? 0), 0);
    this.retired.length = 0;
    return left;
  }

  /** One rule invocation: now, or later under the invocation limit. */
  private invoke(run: () => void): void {
    if (this.throttle === undefined) run();
    else this.throttle.invoke(run);
  }

  /** The rules in force (enabled, with their patterns compiled). */
  get ruleNames(): string[] {
    return this.rules.map((r) => r.rule.name);
  }

  private isThisBus(name: unknown): boolean {
    return name === undefined || name === null || name === '' || name === 'default' || name === this.opts.busName || name === this.busArn;
  }

  /**
   * DescribeEventBus: this bus (by name, ARN, or `default`) exists; any other is a
   * ResourceNotFoundException, as EventBridge answers (the notifier checks its bus with it).
   */
  describeEventBus(input: Record<string, unknown>): { Name: string; Arn: string } {
    const name = input.Name;
    if (name === 'default') return { Name: 'default', Arn: `arn:aws:events:${this.region}:${this.account}:event-bus/default` };
    if ((name === undefined || this.isThisBus(name)) && !this.deleted) return { Name: this.opts.busName, Arn: this.busArn };
    throw new AwsServiceError('ResourceNotFoundException', `Event bus ${String(name)} does not exist.`);
  }

  private ruleArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:rule/${this.opts.busName}/${name}`;
  }

  private apiRule(name: unknown, bus: unknown): ApiRule {
    if (!this.isThisBus(bus)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${String(bus)} does not exist.`);
    const rule = typeof name === 'string' ? this.apiRules.get(name) : undefined;
    if (rule === undefined) throw new AwsServiceError('ResourceNotFoundException', `Rule ${String(name)} does not exist on EventBus ${this.opts.busName}.`);
    return rule;
  }

  /** PutRule with an event pattern (no schedule), on this bus; a rule of the template's name is refused. */
  putRule(input: Record<string, unknown>): { RuleArn: string } {
    const name = input.Name;
    if (typeof name !== 'string' || !RULE_NAME.test(name)) throw new AwsServiceError('ValidationException', `Rule name ${String(name)} is invalid.`);
    if (!this.isThisBus(input.EventBusName)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${String(input.EventBusName)} does not exist.`);
    if (this.rules.some((r) => r.rule.name === name)) throw new AwsServiceError('ValidationException', `Rule ${name} comes from the template; this stand-in does not change it.`);
    if (typeof input.EventPattern !== 'string') throw new AwsServiceError('ValidationException', 'EventPattern is required (this stand-in has no schedules).');
    let pattern: CompiledPattern;
    try {
      pattern = compilePattern(JSON.parse(input.EventPattern));
    } catch (error) {
      throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${(error as Error).message}`);
    }
    const previous = this.apiRules.get(name);
    this.apiRules.set(name, { name, pattern, enabled: input.State !== 'DISABLED', targets: previous?.targets ?? new Map() });
    return { RuleArn: this.ruleArn(name) };
  }

  putTargets(input: Record<string, unknown>): { FailedEntryCount: number; FailedEntries: unknown[] } {
    const rule = this.apiRule(input.Rule, input.EventBusName);
    const targets = Array.isArray(input.Targets) ? (input.Targets as { Id?: unknown; Arn?: unknown }[]) : [];
    if (targets.length === 0) throw new AwsServiceError('ValidationException', 'Targets must have at least one target.');
    for (const t of targets) {
      if (typeof t.Id !== 'string' || typeof t.Arn !== 'string') throw new AwsServiceError('ValidationException', 'Each target needs an Id and an Arn.');
      rule.targets.set(t.Id, t.Arn);
    }
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  removeTargets(input: Record<string, unknown>): { FailedEntryCount: number; FailedEntries: unknown[] } {
    const rule = this.apiRule(input.Rule, input.EventBusName);
    for (const id of Array.isArray(input.Ids) ? input.Ids : []) rule.targets.delete(String(id));
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  /** DeleteRule; as on AWS, a rule that still has targets is refused. Deleting a rule that does not exist succeeds. */
  deleteRule(input: Record<string, unknown>): Record<string, never> {
    const name = input.Name;
    const rule = typeof name === 'string' ? this.apiRules.get(name) : undefined;
    if (rule === undefined) return {};
    if (rule.targets.size > 0) throw new AwsServiceError('ValidationException', "Rule can't be deleted since it has targets.");
    this.apiRules.delete(rule.name);
    return {};
  }

  /** Names of the rules made through the API that exist now. */
  get apiRuleNames(): string[] {
    return [...this.apiRules.keys()];
  }

  /** PutEvents, without the HTTP: validates, routes, delivers, answers. */
  putEvents(input: Record<string, unknown>): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    this.stats.requests++;
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new AwsServiceError('ValidationException', "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (entries.length > MAX_ENTRIES_PER_REQUEST) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value '[...]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES_PER_REQUEST}`,
      );
    }
    let total = 0;
    for (const e of entries as RequestEntry[]) {
      total += entrySize({
        ...(typeof e.Source === 'string' ? { Source: e.Source } : {}),
        ...(typeof e.DetailType === 'string' ? { DetailType: e.DetailType } : {}),
        ...(typeof e.Detail === 'string' ? { Detail: e.Detail } : {}),
        ...(Array.isArray(e.Resources) ? { Resources: e.Resources.map(String) } : {}),
        ...(e.Time !== undefined ? { Time: new Date(0) } : {}),
      });
    }
    if (total > MAX_REQUEST_SIZE) {
      throw new AwsServiceError('ValidationException', `Total size of the entries in the request is over the limit (${total} bytes; the limit is under 256 KB).`);
    }

    const now = Date.now();
    const results = (entries as RequestEntry[]).map((entry, index): PutEventsResultEntry => {
      const problem = this.check(entry);
      if (problem !== undefined) {
        this.stats.rejected++;
        this.opts.onRejected?.(entry, problem.ErrorCode, problem.ErrorMessage);
        return problem;
      }
      const injected = this.faults?.entry?.(entry as Record<string, unknown>, index);
      if (injected !== undefined) {
        this.stats.injected++;
        return { ErrorCode: injected.ErrorCode, ErrorMessage: injected.ErrorMessage };
      }
      const id = randomUUID();
      this.stats.accepted++;
      if (this.deleted || !this.isThisBus(entry.EventBusName)) {
        this.stats.toOtherBus++;
        return { EventId: id };
      }
      const detailText = entry.Detail as string;
      const event: DeliveredEvent = {
        version: '0',
        id,
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: this.account,
        time: eventTime(entry.Time, now),
        region: this.region,
        resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
        detail: JSON.parse(detailText) as Record<string, unknown>,
      };
      // The delivered text keeps the Detail's own text (JSON.parse would round big integers).
      const head = JSON.stringify({ ...event, detail: undefined });
      const eventJson = /[\r\n]/.test(detailText) ? JSON.stringify(event) : `${head.slice(0, -1)},"detail":${detailText}}`;
      this.route(event, eventJson, now);
      return { EventId: id };
    });
    const failed = results.filter((r) => r.ErrorCode !== undefined).length;
    return { FailedEntryCount: failed, Entries: results };
  }

  private check(entry: RequestEntry): { ErrorCode: string; ErrorMessage: string } | undefined {
    const missing = (['Source', 'DetailType', 'Detail'] as const).filter((k) => typeof entry[k] !== 'string' || entry[k] === '');
    if (missing.length > 0) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter(s) ${missing.join(', ')} must be specified.` };
    }
    if ((entry.DetailType as string).length > 128) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'DetailType is longer than 128 characters.' };
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object.' };
    }
    const overflow = firstInt64Overflow(entry.Detail as string);
    if (overflow !== undefined) {
      return {
        ErrorCode: 'MalformedDetail',
        ErrorMessage: `Detail is malformed: the integer ${overflow} is outside the range -9223372036854775808 to 9223372036854775807.`,
      };
    }
    return undefined;
  }

  private route(event: DeliveredEvent, eventJson: string, receivedAt: number): void {
    const matched: string[] = [];
    for (const { rule, pattern } of this.rules) {
      if (!pattern.matches(event)) continue;
      matched.push(rule.name);
      this.invoke(() => {
        for (const target of rule.targets) {
          const delivery: Delivery = { rule: rule.name, target: target.name, event, eventJson, deliveredAt: Date.now() };
          this.stats.deliveries++;
          for (const t of this.opts.targets) t.deliver(delivery);
        }
      });
    }
    for (const rule of this.apiRules.values()) {
      if (!rule.enabled || !rule.pattern.matches(event)) continue;
      matched.push(rule.name);
      // The targets as they are when the rule matched (a throttled invocation runs later).
      const targets = [...rule.targets];
      this.invoke(() => {
        for (const [id, arn] of targets) {
          const delivery: Delivery = { rule: rule.name, target: id, event, eventJson, deliveredAt: Date.now() };
          if (this.opts.deliverToArn?.(arn, eventJson) !== true) continue;
          this.stats.deliveries++;
          for (const t of this.opts.targets) t.deliver(delivery);
        }
      });
    }
    this.opts.onEvent?.(event, matched, receivedAt);
  }
}

export interface EventBusServer {
  readonly bus: LocalEventBus;
  readonly endpoint: string;
  /** Requests being handled now (a delayed one included). */
  pending(): number;
  close(): Promise<void>;
}

/** Starts the bus on a loopback port. */
export async function startEventBusServer(opts: EventBusOptions): Promise<EventBusServer> {
  const bus = new LocalEventBus(opts);
  const server: RunningServer = await startAwsJsonServer(
    {
      targetPrefix: 'AWSEvents',
      jsonVersion: '1.1',
      operations: {
        PutEvents: (input) => bus.putEvents(input),
        DescribeEventBus: (input) => bus.describeEventBus(input),
        PutRule: (input) => bus.putRule(input),
        PutTargets: (input) => bus.putTargets(input),
        RemoveTargets: (input) => bus.removeTargets(input),
        DeleteRule: (input) => bus.deleteRule(input),
      },
      maxBodyBytes: 4 * 1024 * 1024,
      faults: (operation, input) => bus.faults?.request?.(operation, input),
    },
    opts.port ?? 0,
  );
  return {
    bus,
    endpoint: server.endpoint,
    pending: () => server.pending(),
    close: () => {
      bus.stopInvocations();
      return server.close();
    },
  };
}

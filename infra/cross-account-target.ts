/**
 * A rule target in another account (or, for an event bus, another region), as a pure module:
 * the ARN is parsed and checked once, and the two policies that deliver to it are derived from
 * it, so the construct, the stack output and the tests agree on one definition.
 *
 * EventBridge delivers to an SQS queue, an SNS topic or a Lambda function of another account
 * only in the same region and only through an execution role of the bus's account, plus a
 * resource policy on the target that lets that role act (EventBridge user guide, "Sending
 * events to an AWS service in another account in EventBridge", eb-service-cross-account.html).
 * A bus in another account or region is a target of its own kind, which AWS recommends giving a
 * role too (EventBridge user guide, "Permissions for event buses", eb-event-bus-perms.html;
 * "Sending and receiving events between AWS accounts", eb-cross-account.html; a cross-region
 * bus target requires one: eb-cross-region.html).
 */

/** The kinds of cross-account target. */
export const CROSS_ACCOUNT_TARGET_KINDS = ['sqs', 'sns', 'lambda', 'event-bus'] as const;
export type CrossAccountTargetKind = (typeof CROSS_ACCOUNT_TARGET_KINDS)[number];

/** A parsed target ARN. */
export interface CrossAccountTarget {
  readonly kind: CrossAccountTargetKind;
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Queue, topic, function (with its qualifier, if any) or bus name. */
  readonly name: string;
}

/** Raised for a target ARN that cannot be delivered to; the message names the ARN and the rule. */
export class CrossAccountTargetError extends Error {
  override readonly name = 'CrossAccountTargetError';
}

/** The one action the execution role needs on each kind of target. */
export const TARGET_ACTION: Readonly<Record<CrossAccountTargetKind, string>> = {
  sqs: 'sqs:SendMessage',
  sns: 'sns:Publish',
  lambda: 'lambda:InvokeFunction',
  'event-bus': 'events:PutEvents',
};

/** The service principal of each kind, for `kms:ViaService` (a bus and a function take no customer key from us). */
const KEY_SERVICE: Readonly<Partial<Record<CrossAccountTargetKind, string>>> = { sqs: 'sqs', sns: 'sns' };

const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;

/**
 * Parses a target ARN. An SQS queue, SNS topic, Lambda function (optionally with its version or
 * alias) or EventBridge event bus; anything else, a FIFO queue or topic (it needs a message
 * group id per event, which these routes do not set), or a malformed ARN throws, naming the
 * value and the rule.
 */
export function parseTargetArn(arn: string): CrossAccountTarget {
  const m = ARN.exec(arn);
  if (m === null) {
    throw new CrossAccountTargetError(`targetArn '${arn}' is not an ARN with a region and a 12-digit account (arn:aws:<service>:<region>:<account>:<resource>)`);
  }
  const [, partition, service, region, account, resource] = m as unknown as [string, string, string, string, string, string];
  if (region === '') throw new CrossAccountTargetError(`targetArn '${arn}' has no region`);
  const at = (kind: CrossAccountTargetKind, name: string): CrossAccountTarget => ({ kind, arn, partition, region, account, name });
  switch (service) {
    case 'sqs':
    case 'sns':
      if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(resource)) throw new CrossAccountTargetError(`targetArn '${arn}': '${resource}' is not a ${service === 'sqs' ? 'queue' : 'topic'} name`);
      if (resource.endsWith('.fifo')) {
        throw new CrossAccountTargetError(`targetArn '${arn}' is a FIFO ${service === 'sqs' ? 'queue' : 'topic'}: it needs a message group id per event, which a cross-account route does not set; use a standard one`);
      }
      return at(service, resource);
    case 'lambda': {
      const fn = /^function:([A-Za-z0-9_-]{1,64})(:[A-Za-z0-9$_-]+)?$/.exec(resource);
      if (fn === null) throw new CrossAccountTargetError(`targetArn '${arn}': a Lambda target must be a function ARN (function:<name>[:<version or alias>])`);
      return at('lambda', resource.slice('function:'.length));
    }
    case 'events': {
      const bus = /^event-bus\/([A-Za-z0-9._\-/]{1,256})$/.exec(resource);
      if (bus === null) throw new CrossAccountTargetError(`targetArn '${arn}': an EventBridge target must be an event bus ARN (event-bus/<name>)`);
      return at('event-bus', bus[1]!);
    }
    default:
      throw new CrossAccountTargetError(
        `targetArn '${arn}': service '${service}' is not a supported cross-account target; use an SQS queue, an SNS topic, a Lambda function or an event bus`,
      );
  }
}

/**
 * Checks the target against the stack's account and region, where they are known at synth
 * (`undefined`: an environment-agnostic stack; the construct then asserts the region at deploy).
 * A target in our own account is refused (an indexer route or an ordinary target does that
 * without a role); a queue, topic or function in another region is refused (EventBridge
 * delivers to them only in the same region).
 */
export function checkTargetPlacement(target: CrossAccountTarget, stackAccount: string | undefined, stackRegion: string | undefined): void {
  if (stackAccount !== undefined && target.account === stackAccount && (target.kind !== 'event-bus' || target.region === stackRegion)) {
    throw new CrossAccountTargetError(
      `targetArn '${target.arn}' is in this stack's own account ${stackAccount}${target.kind === 'event-bus' ? ' and region' : ''}: use addIndexerRoute or an ordinary rule target`,
    );
  }
  if (stackRegion !== undefined && target.kind !== 'event-bus' && target.region !== stackRegion) {
    throw new CrossAccountTargetError(
      `targetArn '${target.arn}' is in region ${target.region}, but EventBridge delivers to a ${target.kind} of another account only in the bus's region (${stackRegion}); deliver to an event bus in ${target.region} instead`,
    );
  }
}

/** An IAM policy statement as JSON (values may be CDK tokens until the stack resolves them). */
export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: { readonly AWS: string };
  readonly Action: string | readonly string[];
  readonly Resource: string;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * The statement the target's account must add to the target's resource policy: the execution
 * role may perform the kind's one action on the target, nothing else. For a queue, topic or
 * bus this is a statement of its policy document (SQS access policy, SNS topic policy, event bus
 * policy); for a function, it is what `aws lambda add-permission --principal <roleArn>
 * --action lambda:InvokeFunction` writes.
 */
export function targetPolicyStatement(target: CrossAccountTarget, roleArn: string): PolicyStatementJson {
  return {
    Sid: 'AllowHypervisorNotificationsRoute',
    Effect: 'Allow',
    Principal: { AWS: roleArn },
    Action: TARGET_ACTION[target.kind],
    Resource: target.arn,
  };
}

/**
 * The statement the target's account must add to the policy of the customer-managed key that
 * encrypts the target queue or topic, when there is one: the execution role may create and
 * check data keys (SQS developer guide, "Configure KMS permissions for producers"; SNS developer
 * guide, "Managing Amazon SNS encryption keys"), only through that service in the target's region
 * (KMS developer guide, kms:ViaService). `undefined` for kinds that take no key from us.
 */
export function targetKeyPolicyStatement(target: CrossAccountTarget, roleArn: string): PolicyStatementJson | undefined {
  const service = KEY_SERVICE[target.kind];
  if (service === undefined) return undefined;
  return {
    Sid: 'AllowHypervisorNotificationsRouteToEncrypt',
    Effect: 'Allow',
    Principal: { AWS: roleArn },
    Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': `${service}.${target.region}.amazonaws.com` } },
  };
}

/** The `kms:ViaService` value for the target's key, or `undefined` when the kind takes none. */
export function targetKeyService(target: CrossAccountTarget): string | undefined {
  const service = KEY_SERVICE[target.kind];
  return service === undefined ? undefined : `${service}.${target.region}.amazonaws.com`;
}

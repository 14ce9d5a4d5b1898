/**
 * A cross-account route: an EventBridge rule on the notifications bus delivering the selected
 * notifications to a target in another account (an SQS queue, SNS topic or Lambda function in
 * the same region, or an event bus in any region), through an execution role the construct
 * creates with the one action the target needs. The delivery dead-letter queue (events
 * EventBridge could not deliver after its retries) and the alarms stay in our account. The stack
 * cannot change the other account's target: the resource policy it must attach is a stack
 * output (`targetPolicyJson`), and docs/cross-account.md says where it goes.
 */
import { CfnOutput, CfnRule, Duration, Fn, Names, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FieldRead } from './consumer-reads.js';
import {
  checkTargetPlacement,
  CrossAccountTargetError,
  parseTargetArn,
  TARGET_ACTION,
  targetKeyPolicyStatement,
  targetKeyService,
  targetPolicyStatement,
  type CrossAccountTarget,
} from './cross-account-target.js';
import { toCdkPattern } from './indexer-route.js';
import { indexerRoutePattern, type IndexerRouteFilter, type IndexerRoutePattern } from './indexer-route-pattern.js';
import { acknowledgeDeliveryDeadLetterQueue, allowEventBridgeDelivery, allowRuleToSend, secureQueue } from './secure-resources.js';

/** Options of `HypervisorNotifier.addCrossAccountRoute`. */
export interface CrossAccountRouteOptions extends IndexerRouteFilter {
  /**
   * ARN of the target: an SQS queue, SNS topic or Lambda function in another account and this
   * stack's region, or an event bus in another account or region. A FIFO queue or topic, a target
   * of our own account (same region for a bus), or a queue, topic or function in another region
   * fails synth (in an environment-agnostic stack, the region is checked at deploy).
   */
  readonly targetArn: string;
  /**
   * The customer-managed key that encrypts the target queue or topic, if any: the role may then
   * use it (through SQS or SNS only), and the output includes the key-policy statement to add.
   * @default - the target is not encrypted with a customer-managed key
   */
  readonly targetKeyArn?: string;
  /** Payload fields the consumer reads (watched by the notifier, as for an indexer route). @default - none beyond `changedFields` */
  readonly readsFields?: readonly FieldRead[];
  /** Name of the rule (unique per bus, ≤ 64 characters). @default - derived from the construct path */
  readonly ruleName?: string;
  /** @default - "Compute node notifications for <id> in account <account>" */
  readonly description?: string;
  /** How long EventBridge retries a failed delivery before the delivery dead-letter queue. @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /** Delivery attempts before the delivery dead-letter queue. @default 185 (EventBridge's default) */
  readonly retryAttempts?: number;
}

export interface CrossAccountRouteProps extends CrossAccountRouteOptions {
  readonly eventBus: events.IEventBus;
  /** The notifications' `source`. */
  readonly eventSource: string;
  /** Key of the delivery dead-letter queue (in our account). */
  readonly encryptionKey: kms.IKey;
}

const DLQ_RETENTION = Duration.days(14);

export class CrossAccountRoute extends Construct {
  readonly target: CrossAccountTarget;
  /** The pattern exactly as it appears in the rule's `EventPattern`. */
  readonly pattern: IndexerRoutePattern;
  readonly rule: events.Rule;
  /** The rule's name (a literal, for the alarms' `RuleName` dimension). */
  readonly ruleName: string;
  /** The execution role EventBridge assumes to deliver: the target's one action on the target, nothing else. */
  readonly role: iam.Role;
  /** Events EventBridge could not deliver to the target (in our account). */
  readonly deliveryDeadLetterQueue: sqs.Queue;
  /** The policy document (JSON, resolved at deploy) the target's account must attach; also the stack output `<path>TargetPolicy`. */
  readonly targetPolicyJson: string;

  constructor(scope: Construct, id: string, props: CrossAccountRouteProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.target = parseTargetArn(props.targetArn);
    const literal = (v: string): string | undefined => (Token.isUnresolved(v) ? undefined : v);
    checkTargetPlacement(this.target, literal(stack.account), literal(stack.region));
    if (props.targetKeyArn !== undefined && targetKeyService(this.target) === undefined) {
      throw new CrossAccountTargetError(`cross-account route '${id}': targetKeyArn is for an SQS queue or SNS topic target, not a ${this.target.kind}`);
    }
    if (this.target.kind !== 'event-bus' && Token.isUnresolved(stack.region)) {
      // An environment-agnostic stack: the region is known only at deploy. A CloudFormation rule
      // stops the deploy before any resource is created if it is not the target's.
      new CfnRule(this, 'TargetInStackRegion', {
        assertions: [
          {
            assert: Fn.conditionEquals(stack.region, this.target.region),
            assertDescription: `The ${this.target.kind} ${this.target.arn} is in ${this.target.region}: EventBridge delivers to it only from a bus in that region; deploy this stack there or target an event bus.`,
          },
        ],
      });
    }
    this.pattern = indexerRoutePattern({ ...props, source: props.eventSource });

    this.deliveryDeadLetterQueue = secureQueue(this, 'DeliveryDeadLetterQueue', { encryptionKey: props.encryptionKey, retentionPeriod: DLQ_RETENTION });

    // Trust policy exactly as the EventBridge user guide gives it for a cross-account execution
    // role (eb-service-cross-account.html, "Specify an execution role"): the role can do nothing
    // but the one action below, so the principal needs no narrower condition to be safe.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `EventBridge: deliver compute node notifications to ${this.target.arn}`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DeliverToTarget', actions: [TARGET_ACTION[this.target.kind]], resources: [this.target.arn] }),
    );
    const keyService = targetKeyService(this.target);
    if (props.targetKeyArn !== undefined && keyService !== undefined) {
      // Cross-account key use needs both the key policy (the output) and the role's own policy
      // (KMS developer guide, "Allowing users in other accounts to use a KMS key").
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptForTarget',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.targetKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': keyService } },
        }),
      );
    }

    this.ruleName = props.ruleName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      ruleName: this.ruleName,
      description: props.description ?? `Compute node notifications for ${id} in account ${this.target.account}`,
      eventPattern: toCdkPattern(this.pattern),
    });
    this.rule.addTarget(
      new RoleTarget(this.target.arn, this.role, this.deliveryDeadLetterQueue, props.maxEventAge ?? Duration.hours(24), props.retryAttempts ?? 185),
    );
    allowEventBridgeDelivery(props.encryptionKey, this);

    const statements: object[] = [targetPolicyStatement(this.target, this.role.roleArn)];
    const keyStatement = props.targetKeyArn === undefined ? undefined : targetKeyPolicyStatement(this.target, this.role.roleArn);
    this.targetPolicyJson = stack.toJsonString({ Version: '2012-10-17', Statement: statements });
    new CfnOutput(this, 'TargetPolicy', {
      value: this.targetPolicyJson,
      description: `Add this statement to the resource policy of ${this.target.arn} (account ${this.target.account}); docs/cross-account.md`,
    });
    if (keyStatement !== undefined) {
      new CfnOutput(this, 'TargetKeyPolicy', {
        value: stack.toJsonString({ Version: '2012-10-17', Statement: [keyStatement] }),
        description: `Add this statement to the key policy of ${props.targetKeyArn ?? ''} (account ${this.target.account})`,
      });
    }

    acknowledgeDeliveryDeadLetterQueue(this.deliveryDeadLetterQueue);
  }
}

/**
 * The rule's target: the ARN in the other account, the execution role, and our dead-letter
 * queue, whose policy lets only this rule send (`allowRuleToSend`). EventBridge writes
 * to the dead-letter queue as itself, not through the role.
 */
class RoleTarget implements events.IRuleTarget {
  constructor(
    private readonly arn: string,
    private readonly role: iam.IRole,
    private readonly deadLetterQueue: sqs.IQueue,
    private readonly maxEventAge: Duration,
    private readonly retryAttempts: number,
  ) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    allowRuleToSend(this.deadLetterQueue, 'AllowThisRuleToDeadLetter', rule.ruleArn);
    return {
      arn: this.arn,
      role: this.role,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: { maximumEventAgeInSeconds: this.maxEventAge.toSeconds(), maximumRetryAttempts: this.retryAttempts },
    };
  }
}

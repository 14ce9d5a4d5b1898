/**
 * An indexer route: an EventBridge rule on the notifications bus delivering the selected
 * notifications to an SQS queue that an indexer consumes. The queue has a dead-letter queue
 * (messages the indexer failed on `maxReceiveCount` times) and the rule target has another
 * (events EventBridge could not deliver after its retries). All three are encrypted with the
 * given key and refuse non-TLS requests.
 */
import { Duration, Names } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FieldRead } from './consumer-reads.js';
import { indexerRoutePattern, type IndexerRouteFilter, type IndexerRoutePattern } from './indexer-route-pattern.js';
import { acknowledgeDeadLetterQueue, acknowledgeDeliveryDeadLetterQueue, allowEventBridgeDelivery, allowRuleToSend, secureQueue } from './secure-resources.js';

/** Options of `HypervisorNotifier.addIndexerRoute`. */
export interface IndexerRouteOptions extends IndexerRouteFilter {
  /**
   * Payload fields the route's consumer reads. The notifier watches them (with `changedFields`,
   * which the route reads implicitly, exactly), so a change to any of them is notified; a field
   * given as `{ field, resolution }` is notified when it moves by a bucket of that width
   * (docs/field-resolution.md). A field the payload does not have, or a bad resolution, fails
   * synth, naming the route and the field.
   * @default - none beyond `changedFields`
   */
  readonly readsFields?: readonly FieldRead[];
  /**
   * Name of the rule (unique per bus, at most 64 characters). It is set at synth time so the
   * rule's CloudWatch `RuleName` dimension is known (a custom-bus rule's `Ref` is `bus|rule`).
   * @default - derived from the construct path, e.g. `HypervisorNotifications-Notifier-RouteRunningVms-1A2B3C4D`
   */
  readonly ruleName?: string;
  /** @default - "Compute node notifications for indexer <id>" */
  readonly description?: string;
  /** How long the indexer queue keeps a message. @default Duration.days(4) */
  readonly queueRetention?: Duration;
  /** Visibility timeout of the indexer queue (set it above the indexer's processing time). @default Duration.seconds(30) */
  readonly visibilityTimeout?: Duration;
  /** Receives before a message moves to the queue's dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** How long EventBridge retries a failed delivery before using the target's dead-letter queue. @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /** Delivery attempts before the target's dead-letter queue. @default 185 (EventBridge's default) */
  readonly retryAttempts?: number;
}

export interface IndexerRouteProps extends IndexerRouteOptions {
  readonly eventBus: events.IEventBus;
  /** The notifications' `source`. */
  readonly eventSource: string;
  /** Key for the three queues; its policy gets the statement EventBridge needs to deliver to them (`allowEventBridgeDelivery`). */
  readonly encryptionKey: kms.IKey;
}

const DLQ_RETENTION = Duration.days(14);

export class IndexerRoute extends Construct {
  /** The pattern exactly as it appears in the rule's `EventPattern`. */
  readonly pattern: IndexerRoutePattern;
  readonly rule: events.Rule;
  /** The rule's name (a literal, see `ruleName`). */
  readonly ruleName: string;
  /** The queue the indexer consumes. */
  readonly queue: sqs.Queue;
  /** Messages the indexer received `maxReceiveCount` times without deleting them. */
  readonly deadLetterQueue: sqs.Queue;
  /** Events EventBridge could not deliver to `queue`. */
  readonly deliveryDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IndexerRouteProps) {
    super(scope, id);
    this.pattern = indexerRoutePattern({ ...props, source: props.eventSource });

    this.deadLetterQueue = secureQueue(this, 'DeadLetterQueue', { encryptionKey: props.encryptionKey, retentionPeriod: DLQ_RETENTION });
    this.queue = secureQueue(this, 'Queue', {
      encryptionKey: props.encryptionKey,
      retentionPeriod: props.queueRetention ?? Duration.days(4),
      deadLetterQueue: this.deadLetterQueue,
      maxReceiveCount: props.maxReceiveCount ?? 5,
      ...(props.visibilityTimeout === undefined ? {} : { visibilityTimeout: props.visibilityTimeout }),
    });
    this.deliveryDeadLetterQueue = secureQueue(this, 'DeliveryDeadLetterQueue', {
      encryptionKey: props.encryptionKey,
      retentionPeriod: DLQ_RETENTION,
    });

    this.ruleName = props.ruleName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      ruleName: this.ruleName,
      description: props.description ?? `Compute node notifications for indexer ${id}`,
      eventPattern: toCdkPattern(this.pattern),
    });
    this.rule.addTarget(
      new RuleQueueTarget(this.queue, this.deliveryDeadLetterQueue, props.maxEventAge ?? Duration.hours(24), props.retryAttempts ?? 185),
    );
    allowEventBridgeDelivery(props.encryptionKey, this);

    acknowledgeDeadLetterQueue(this.deadLetterQueue);
    acknowledgeDeliveryDeadLetterQueue(this.deliveryDeadLetterQueue);
  }
}

/**
 * The rule's SQS target, delivering to `queue` with `deadLetterQueue` for what cannot be
 * delivered. Unlike aws-events-targets' `SqsQueue`, which for a KMS-encrypted queue lets any
 * rule of the account send (`aws:SourceAccount` only, plus GetQueueAttributes/GetQueueUrl) and
 * grants EventBridge kms:Encrypt and kms:ReEncrypt* as well, each queue's policy allows only
 * `sqs:SendMessage` from this rule (`allowRuleToSend`); the key statement is `allowEventBridgeDelivery`.
 */
class RuleQueueTarget implements events.IRuleTarget {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly deadLetterQueue: sqs.IQueue,
    private readonly maxEventAge: Duration,
    private readonly retryAttempts: number,
  ) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    allowRuleToSend(this.queue, 'AllowThisRuleToDeliver', rule.ruleArn);
    allowRuleToSend(this.deadLetterQueue, 'AllowThisRuleToDeadLetter', rule.ruleArn);
    return {
      arn: this.queue.queueArn,
      targetResource: this.queue,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: { maximumEventAgeInSeconds: this.maxEventAge.toSeconds(), maximumRetryAttempts: this.retryAttempts },
    };
  }
}

/** Converts the JSON-form pattern to CDK's `EventPattern` (which renders back to the same JSON). */
export function toCdkPattern(pattern: IndexerRoutePattern): events.EventPattern {
  return {
    source: [...pattern.source],
    detailType: [...pattern['detail-type']],
    ...(pattern.detail === undefined ? {} : { detail: pattern.detail as Record<string, unknown> }),
  };
}

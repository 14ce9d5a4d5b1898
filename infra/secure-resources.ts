/**
 * Small factories for the stack's queues and the cdk-nag acknowledgement helper, so every
 * queue is encrypted and TLS-only the same way and every acknowledgement carries a reason.
 */
import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';

/**
 * The removal policy of what the stack keeps when it is deleted (the key, the table, the
 * quarantine queue, the bucket, the notifier's log group): CloudFormation's
 * `RetainExceptOnCreate`. Retained on a delete or a replacement, but deleted when the stack's
 * first create fails and rolls back, so a failed first deploy leaves nothing behind and a retry
 * starts clean instead of colliding with orphans (a named table, a key pending nothing). The
 * table only while DynamoDB deletion protection is off, as it is by default: DynamoDB refuses to
 * delete a protected table (`tableDeletionProtection`, turned on by a later deploy).
 */
export const RETAIN_EXCEPT_ON_CREATE = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

/** Stable Sid of the key-policy statement letting EventBridge deliver to queues encrypted with the key. */
export const EVENTBRIDGE_KEY_STATEMENT_SID = 'AllowEventBridgeToDeliverToEncryptedQueues';

const keysOpenedToEventBridge = new WeakSet<kms.IKey>();

/**
 * Lets EventBridge deliver to SQS queues (rule targets and their dead-letter queues) encrypted
 * with `key`: exactly the statement AWS documents for this case, `kms:GenerateDataKey` and
 * `kms:Decrypt` for `events.amazonaws.com` on `*`, without conditions. EventBridge user guide,
 * "Amazon EventBridge targets" (eb-targets.html): "If your target, such as an Amazon SQS queue,
 * uses AWS KMS encryption, you must include the following section in your KMS key policy";
 * SQS developer guide, "Amazon SQS key management" (sqs-key-management.html#compatibility-with-aws-services)
 * gives the same two actions for an AWS service event source. No AWS page says EventBridge sends
 * `aws:SourceAccount` or `aws:SourceArn` to KMS when it delivers to SQS (the SNS developer guide
 * says it does not for SNS), so a condition on them could make every delivery fail; what
 * confines EventBridge to our rules is each queue's policy (`aws:SourceArn` = the rule).
 * "Using dead-letter queues to process undelivered events" (eb-rule-dlq) conditions only the
 * queue policy on the rule; the conditions of "Authorizing EventBridge to use a customer managed
 * key" (eb-encryption-key-policy) are for an event bus that EventBridge encrypts with the key
 * (`aws:SourceArn` = the bus), not for delivery to a target's queue.
 * Added once per key however many routes use it. For a key imported into the app the statement
 * cannot be added: synth warns, naming it, so the key's owner adds it.
 */
export function allowEventBridgeDelivery(key: kms.IKey, scope: IConstruct): void {
  if (keysOpenedToEventBridge.has(key)) return;
  keysOpenedToEventBridge.add(key);
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: EVENTBRIDGE_KEY_STATEMENT_SID,
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
    }),
    /* allowNoOp */ true,
  );
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2(
      'hypervisor-notifications:imported-key-eventbridge',
      `The key ${key.keyArn} is imported: its policy must let events.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or EventBridge cannot deliver to the indexer route queues (see the EventBridge user guide, "targets", Amazon SQS).`,
    );
  }
}

/**
 * Lets the EventBridge rule `ruleArn`, and no other, send to `queue` (a rule target or its
 * dead-letter queue): `sqs:SendMessage` for `events.amazonaws.com` conditioned on
 * `aws:SourceArn`, the statement the EventBridge user guide gives ("Amazon SQS permissions",
 * eb-use-resource-based.html; "Granting permissions to the dead-letter queue", eb-rule-dlq.html).
 */
export function allowRuleToSend(queue: sqs.IQueue, sid: string, ruleArn: string): void {
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    }),
  );
}

/**
 * A role statement on a key restricted with `kms:ViaService` to the AWS services that use the key
 * for the role (DynamoDB, SQS, S3 each support it: KMS developer guide, "AWS KMS condition keys",
 * kms:ViaService, "Services that support the kms:ViaService condition key"), so the role cannot
 * use the key directly. `services` are service prefixes (`dynamodb`, `sqs`, `s3`).
 */
export function keyStatement(sid: string, scope: IConstruct, key: kms.IKey, actions: readonly string[], services: readonly string[]): iam.PolicyStatement {
  const region = Stack.of(scope).region;
  const via = [...new Set(services)].sort().map((s) => `${s}.${region}.amazonaws.com`);
  return new iam.PolicyStatement({
    sid,
    actions: [...new Set(actions)].sort(),
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': via.length === 1 ? via[0]! : via } },
  });
}

/** Records a cdk-nag (v3) acknowledgement of one rule or finding on a construct and its children. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** A dead-letter queue needs no redrive policy of its own: it is the terminal store. */
export function acknowledgeDeadLetterQueue(queue: IConstruct): void {
  acknowledge(
    queue,
    'Serverless-SQSRedrivePolicy',
    'This queue is itself a dead-letter queue (terminal store, alarmed on depth); a redrive policy on it would only move failures one hop further.',
  );
}

/** An EventBridge rule target's dead-letter queue, which cdk-nag does not recognise as one. */
export function acknowledgeDeliveryDeadLetterQueue(queue: IConstruct): void {
  acknowledgeDeadLetterQueue(queue);
  acknowledge(
    queue,
    'AwsSolutions-SQS3',
    "This queue is the EventBridge rule target's dead-letter queue (Targets[].DeadLetterConfig), which cdk-nag does not recognise as a DLQ; it is alarmed on depth.",
  );
}

export interface SecureQueueProps {
  /** Key for SSE-KMS. */
  readonly encryptionKey: kms.IKey;
  /** How long a message is kept. */
  readonly retentionPeriod: Duration;
  /** Where a message goes after `maxReceiveCount` receives. @default - none (the queue is itself a dead-letter store) */
  readonly deadLetterQueue?: sqs.IQueue;
  /** @default 5 */
  readonly maxReceiveCount?: number;
  /** @default 30 seconds (SQS default) */
  readonly visibilityTimeout?: Duration;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** @default 256 KiB (SQS default) */
  readonly maxMessageSizeBytes?: number;
}

/** An SQS queue encrypted with a customer-managed key whose policy denies non-TLS requests. */
export function secureQueue(scope: Construct, id: string, props: SecureQueueProps): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.encryptionKey,
    // Data keys are reused for 5 minutes, so KMS is called rarely.
    dataKeyReuse: Duration.minutes(5),
    enforceSSL: true,
    retentionPeriod: props.retentionPeriod,
    ...(props.visibilityTimeout === undefined ? {} : { visibilityTimeout: props.visibilityTimeout }),
    ...(props.maxMessageSizeBytes === undefined ? {} : { maxMessageSizeBytes: props.maxMessageSizeBytes }),
    ...(props.deadLetterQueue === undefined
      ? {}
      : { deadLetterQueue: { queue: props.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 } }),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
  });
}

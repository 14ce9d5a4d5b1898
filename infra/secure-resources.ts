/**
 * Small factories for the stack's queues and the cdk-nag acknowledgement helper, so every
 * queue is encrypted and TLS-only the same way and every acknowledgement carries a reason.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';

/** Records a cdk-nag (v3) acknowledgement of one rule or finding on a construct and its children. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
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

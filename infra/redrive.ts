/**
 * The automatic redrive of discarded batches: every object Lambda writes to the on-failure
 * bucket (`aws/lambda/...`) raises an S3 event notification to the redrive queue, whose
 * function runs the batch through the notifier again (functions/redrive/) and backs off while
 * the bus is missing or failing, for as long as the bucket keeps the object.
 *
 * - S3 → SQS needs the queue's policy to let s3.amazonaws.com send (with the bucket as
 *   aws:SourceArn), and with an SSE-KMS queue the key policy to let S3 use the key
 *   (kms:GenerateDataKey, kms:Decrypt): S3 user guide, "Granting permissions to publish event
 *   notification messages to a destination" (grant-destinations-permissions-to-s3); see
 *   `EncryptedQueueDestination`.
 * - The stale-object alarm watches the queue's message count, not ApproximateAgeOfOldestMessage:
 *   "after a message is received three times (or more) and not processed, the message is moved
 *   to the back of the queue and ApproximateAgeOfOldestMessage points at the second-oldest
 *   message" (SQS developer guide, "Available CloudWatch metrics for Amazon SQS"), which is
 *   exactly the object that keeps failing. SQS publishes no metrics for an inactive queue (one
 *   without messages or API calls for six hours, same page), so missing data means empty.
 * - SQS keeps a message at most 14 days; the bucket keeps objects longer (90 days by
 *   default): the function sends a message again before the queue would drop it.
 */
import * as path from 'node:path';
import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../functions/notifier/metric-names.js';
import { CLAIM_CHECK_PREFIX } from '../functions/notifier/claim-check.js';
import { DEFAULT_BASE_DELAY_SECONDS, DEFAULT_MAX_ATTEMPTS, MAX_QUEUE_RETENTION_SECONDS, MAX_VISIBILITY_SECONDS, REDRIVE_ENV, REDRIVE_SERVICE_NAME } from '../functions/redrive/config.js';
import { REDRIVE_METRIC } from '../functions/redrive/redrive-function.js';
import { ownBucketNotificationsLogs } from './bucket-notifications-logs.js';
import { BundledFunction, PROJECT_ROOT } from './bundled-function.js';
import { acknowledge, keyStatement, secureQueue } from './secure-resources.js';
import { notifyAlarmTopic } from './alarm-topic.js';

export const REDRIVE_ENTRY = path.join(PROJECT_ROOT, 'functions', 'redrive', 'handler.ts');
/** Lambda's prefix for on-failure objects (services-dynamodb-errors: `aws/lambda/<ESM-UUID>/<shardID>/...`). */
export const ON_FAILURE_PREFIX = 'aws/lambda/';

export interface NotifierRedriveProps {
  readonly onFailureBucket: s3.IBucket;
  /** Key of the bucket's objects and of the redrive queue. */
  readonly encryptionKey: kms.IKey;
  /** The notifier function's environment (bus, source, watched fields, quarantine queue): the redrive publishes exactly what it would. */
  readonly notifierEnvironment: Readonly<Record<string, string>>;
  readonly eventBus: events.IEventBus;
  readonly quarantineQueue: sqs.IQueue;
  /** An object still not redriven after this long raises the alarm (5 minutes – 7 days). @default Duration.hours(6) */
  readonly staleAfter?: Duration;
  /** First delay after a failed redrive; it doubles each time, up to 12 hours. @default Duration.minutes(1) */
  readonly baseDelay?: Duration;
  /**
   * Failed attempts after which an object is parked: tagged `redrive=parked` with the reason,
   * counted, alarmed, left for the CLI's `redrive` (1–1000). With the default delays the 16th
   * attempt comes about 3.5 days after the first. @default 16
   */
  readonly maxAttempts?: number;
  /** Active X-Ray tracing and PutEvents trace headers. @default false */
  readonly tracing?: boolean;
  /** Source-mapped stack traces (infra/bundling-options.ts: costs cold-start time). @default false */
  readonly sourceMaps?: boolean;
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  readonly alarmTopic?: sns.ITopic;
  /** @default REDRIVE_ENTRY */
  readonly entry?: string;
}

/**
 * The redrive queue as the bucket's notification destination. CDK's `SqsDestination` grants S3
 * the queue's key with the bucket as `aws:SourceArn`; with the bucket encrypted by that same
 * key, key and bucket would depend on each other. So: the queue policy lets s3.amazonaws.com
 * send for this bucket only (aws:SourceArn), and the key policy lets S3 use the key exactly as AWS
 * documents it (kms:GenerateDataKey, kms:Decrypt; S3 user guide, grant-destinations-permissions-to-s3,
 * "AWS KMS key policy"), naming no bucket. No aws:SourceAccount / aws:SourceArn on the key
 * statement: the page's key policy shows none today (an earlier revision showed both), so no page
 * shows they hold for S3 → SSE-KMS SQS, and a condition that does not hold would fail S3's
 * validation of the destination at deploy. The queue policy's aws:SourceArn confines S3.
 */
class EncryptedQueueDestination implements s3.IBucketNotificationDestination {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly key: kms.IKey,
  ) {}

  bind(scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    const s3Principal = new iam.ServicePrincipal('s3.amazonaws.com');
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowOnFailureBucketNotifications',
        principals: [s3Principal],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [this.queue.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn } },
      }),
    );
    const { statementAdded } = this.key.addToResourcePolicy(
      new iam.PolicyStatement({ sid: 'AllowS3NotificationsToEncryptedQueues', principals: [s3Principal], actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: ['*'] }),
      /* allowNoOp */ true,
    );
    if (!statementAdded) {
      Annotations.of(scope).addWarningV2(
        'hypervisor-notifications:imported-key-s3-notifications',
        `The key ${this.key.keyArn} is imported: its policy must let s3.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or S3 cannot notify the redrive queue.`,
      );
    }
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}

export class NotifierRedrive extends Construct {
  readonly queue: sqs.Queue;
  readonly bundled: BundledFunction;
  /** Some object has waited in the redrive queue longer than `staleAfter`. */
  readonly staleAlarm: cloudwatch.Alarm;
  /** An object was unreadable, or gone before it could be redriven (the bucket's retention ran out). */
  readonly lostObjectsAlarm: cloudwatch.Alarm;
  /** An object was parked: its last attempt failed, and it waits in the bucket for the CLI's `redrive`. */
  readonly parkedObjectsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: NotifierRedriveProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(2);
    const staleAfter = props.staleAfter ?? Duration.hours(6);
    const staleMinutes = staleAfter.toMinutes({ integral: false });
    if (staleMinutes < 5 || staleMinutes > 7 * 24 * 60) throw new Error(`redrive staleAfter must be between 5 minutes and 7 days, got ${staleAfter.toHumanString()}`);
    const maxAttempts = props.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000) throw new Error(`redrive maxAttempts must be a whole number from 1 to 1000, got ${maxAttempts}`);

    this.queue = secureQueue(this, 'Queue', {
      encryptionKey: props.encryptionKey,
      retentionPeriod: Duration.seconds(MAX_QUEUE_RETENTION_SECONDS),
      // Lambda's advice for SQS sources: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
    });
    acknowledge(
      this.queue,
      'AwsSolutions-SQS3',
      'No dead-letter queue on purpose: a message stands for an on-failure object that must be redriven for as long as the bucket keeps it, so the function retries it with growing delays (and re-sends it before the retention ends) instead of parking it; the stale-object alarm fires if it waits too long.',
    );
    acknowledge(this.queue, 'Serverless-SQSRedrivePolicy', 'See AwsSolutions-SQS3: retried until the object is redriven or gone, alarmed when stale.');

    props.onFailureBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new EncryptedQueueDestination(this.queue, props.encryptionKey), { prefix: ON_FAILURE_PREFIX });

    this.bundled = new BundledFunction(this, 'Redrive', {
      entry: props.entry ?? REDRIVE_ENTRY,
      description: 'Redrive: publishes the batches Lambda gave up on (on-failure bucket), through the notifier, with back-off while the bus fails',
      roleDescription: 'Redrive: read on-failure objects and tag them, publish notifications, quarantine records, delay its queue messages',
      environment: {
        ...props.notifierEnvironment,
        [REDRIVE_ENV.bucket]: props.onFailureBucket.bucketName,
        [REDRIVE_ENV.queueUrl]: this.queue.queueUrl,
        [REDRIVE_ENV.baseDelaySeconds]: String(Math.round((props.baseDelay ?? Duration.seconds(DEFAULT_BASE_DELAY_SECONDS)).toSeconds())),
        [REDRIVE_ENV.maxDelaySeconds]: String(MAX_VISIBILITY_SECONDS),
        [REDRIVE_ENV.queueRetentionSeconds]: String(MAX_QUEUE_RETENTION_SECONDS),
        [REDRIVE_ENV.maxAttempts]: String(maxAttempts),
        POWERTOOLS_SERVICE_NAME: REDRIVE_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      memorySize: props.memorySize ?? 512,
      timeout,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
      ...(props.sourceMaps === undefined ? {} : { sourceMaps: props.sourceMaps }),
      // A message about to outlive the queue's retention is sent again by the function to its
      // own queue: a loop on purpose, one hop per ~14 days, bounded by the on-failure bucket's
      // retention (the object expires: "gone", the lost-object alarm). With a long retention
      // the chain passes the ~16 invocations after which Lambda would stop it and the object
      // would wait unseen (Lambda developer guide, "Use Lambda recursive loop detection to
      // prevent infinite loops", https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).
      allowRecursiveLoop: true,
    });
    const b = this.bundled;
    // One object per invocation: each gets the whole timeout, and one slow object delays no other.
    // The mapping and its grant by hand: CDK's SqsEventSource would also grant the queue's key
    // for any use (kms:Decrypt, no kms:ViaService); the key statement below allows it through SQS only.
    const mapping = b.function.addEventSourceMapping('Queue', { eventSourceArn: this.queue.queueArn, batchSize: 1, reportBatchItemFailures: true });
    // Lambda checks the role's access to the queue when it creates the mapping.
    mapping.node.addDependency(b.role);
    b.allow('ConsumeQueue', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'], [this.queue.queueArn]);
    b.allow('ReadAndMarkOnFailureObjects', ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging'], [props.onFailureBucket.arnForObjects(`${ON_FAILURE_PREFIX}*`)]);
    b.allow('PublishNotifications', ['events:PutEvents', 'events:DescribeEventBus'], [props.eventBus.eventBusArn]);
    b.allow('QuarantineRecords', ['sqs:SendMessage'], [props.quarantineQueue.queueArn]);
    // A quarantine message over 1 MiB is kept whole in the bucket (the notifier's claim check), under its own prefix only.
    b.allow('ClaimCheckQuarantineMessages', ['s3:PutObject'], [props.onFailureBucket.arnForObjects(`${CLAIM_CHECK_PREFIX}*`)]);
    // Re-send a message about to outlive the queue's retention (with its key).
    b.allow('ResendMessages', ['sqs:SendMessage'], [this.queue.queueArn]);
    // Decrypt the objects and encrypt claim-checked ones (SSE-KMS); encrypt quarantine messages (SQS needs GenerateDataKey and Decrypt).
    const uses = new Map<kms.IKey, { actions: Set<string>; services: Set<string> }>();
    const need = (key: kms.IKey | undefined, service: string, ...actions: string[]) => {
      if (key === undefined) return;
      const use = uses.get(key) ?? { actions: new Set<string>(), services: new Set<string>() };
      for (const a of actions) use.actions.add(a);
      use.services.add(service);
      uses.set(key, use);
    };
    need(props.onFailureBucket.encryptionKey ?? props.encryptionKey, 's3', 'kms:Decrypt', 'kms:GenerateDataKey');
    need(props.quarantineQueue.encryptionMasterKey, 'sqs', 'kms:Decrypt', 'kms:GenerateDataKey');
    need(props.encryptionKey, 'sqs', 'kms:Decrypt', 'kms:GenerateDataKey');
    let n = 0;
    for (const [key, use] of uses) b.role.addToPrincipalPolicy(keyStatement(`UseKey${n++ === 0 ? '' : n}`, this, key, [...use.actions], [...use.services]));

    const policy = b.role.node.tryFindChild('DefaultPolicy');
    if (policy !== undefined) {
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.onFailureBucket.node.defaultChild as s3.CfnBucket)}.Arn>/aws/lambda/*]`,
        'Get and tag the on-failure objects only (under aws/lambda/, which Lambda names per mapping, shard and date); no write or delete of them.',
      );
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.onFailureBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${CLAIM_CHECK_PREFIX}*]`,
        'Write claim-checked quarantine messages only (under quarantine/, each named by the SHA-256 of its content); no read, tag or delete there.',
      );
      if (props.tracing === true) {
        acknowledge(policy, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions; added by Lambda active tracing, which the operator turned on.');
      }
    }
    acknowledge(b.function, 'Serverless-LambdaDLQ', 'Invoked only by its SQS event source mapping, which never uses a function DLQ; the queue message itself is kept and retried.');
    acknowledge(
      b.function,
      'Serverless-LambdaEventSourceMappingDestination',
      'An SQS event source mapping has no on-failure destination (Lambda supports one for stream and Kafka sources only); a failed message stays in the queue and is retried with growing delays.',
    );
    if (props.tracing !== true) {
      acknowledge(b.function, 'Serverless-LambdaTracing', 'Tracing is opt-in (the `tracing` prop): the function makes a few S3, SQS and PutEvents calls per object, whose outcomes are logged and counted.');
    }
    this.addBucketNotificationAcknowledgements();
    ownBucketNotificationsLogs(this, props.logRetention ?? logs.RetentionDays.ONE_MONTH);

    // ----- alarms -----
    const period = staleMinutes <= 24 * 60 ? Duration.minutes(5) : Duration.hours(1);
    const periods = Math.max(1, Math.ceil(staleMinutes / period.toMinutes()));
    const waiting = new cloudwatch.MathExpression({
      expression: 'visible + inFlight',
      usingMetrics: {
        visible: this.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Minimum', period }),
        inFlight: this.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Minimum', period }),
      },
      label: 'objects waiting to be redriven',
      period,
    });
    this.staleAlarm = new cloudwatch.Alarm(this, 'StaleObjectAlarm', {
      metric: waiting,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      // No data: SQS stops publishing for a queue without messages or calls, i.e. nothing waits.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `An on-failure object has not been redriven for ${staleAfter.toHumanString()} (the redrive queue was never empty in that time): the bus is missing or failing, or the redrive function fails. Its changes are not notified yet; see docs/guarantees.md.`,
    });
    const lost = new cloudwatch.MathExpression({
      expression: 'unreadable + gone',
      usingMetrics: {
        unreadable: this.ownMetric(REDRIVE_METRIC.unreadable),
        gone: this.ownMetric(REDRIVE_METRIC.gone),
      },
      label: 'objects that cannot be redriven',
      period: Duration.minutes(5),
    });
    this.lostObjectsAlarm = new cloudwatch.Alarm(this, 'LostObjectAlarm', {
      metric: lost,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'An on-failure object could not be redriven: unreadable (tagged redrive=unreadable, still in the bucket) or gone (the bucket retention ran out before the redrive). Read the redrive function\'s log.',
    });
    this.parkedObjectsAlarm = new cloudwatch.Alarm(this, 'ParkedObjectAlarm', {
      metric: this.ownMetric(REDRIVE_METRIC.parked),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `An on-failure object was parked after ${maxAttempts} failed attempts: tagged redrive=parked with the reason in redrive-reason, left in the bucket, no longer retried. Its changes are not notified yet: read the tag and the redrive function's log, fix the cause, then run the CLI's redrive on it (docs/guarantees.md).`,
    });
    notifyAlarmTopic(props.alarmTopic, this.staleAlarm, this.lostObjectsAlarm, this.parkedObjectsAlarm);
  }

  private ownMetric(metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: REDRIVE_SERVICE_NAME }, statistic: 'Sum', period: Duration.minutes(5) });
  }

  /** The bucket-notifications custom resource CDK adds (a singleton function of the stack). */
  private addBucketNotificationAcknowledgements(): void {
    const stack = Stack.of(this);
    const handler = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (handler === undefined) return;
    const why = 'CDK\'s own BucketNotificationsHandler custom resource, run once at deploy time to set the on-failure bucket\'s notification configuration; not part of the data path.';
    for (const id of ['AwsSolutions-IAM4', 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'AwsSolutions-IAM5', 'AwsSolutions-L1', 'Serverless-LambdaDLQ', 'Serverless-LambdaTracing', 'Serverless-LambdaDefaultMemorySize', 'Serverless-LambdaLatestVersion']) {
      acknowledge(handler, id, why);
    }
  }
}

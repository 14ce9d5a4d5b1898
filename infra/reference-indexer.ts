/**
 * The reference indexer: a DynamoDB read model of the fleet (functions/indexer/indexer-table.ts)
 * kept by a function consuming an indexer route's queue (SQS event source, partial batch
 * responses). Its role may exactly: receive and delete from that queue (and decrypt with its
 * key), send to it (a paused sweep's continuation, with the key), write the read model (with
 * its key), write its logs.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALL_INDEXES, ATTR, NODE_PARTITION_KEY } from '../functions/indexer/indexer-table.js';
import { DEFAULT_MAX_SWEEP_CONTINUATIONS, INDEXER_ENV, SWEEP_CHAIN_STOPPED_MESSAGE } from '../functions/indexer/indexer.js';
import { METRICS_NAMESPACE } from '../functions/notifier/metric-names.js';
import { REFERENCE_INDEXER_READ_FIELDS, REFERENCE_INDEXER_RESOLUTIONS } from '../functions/indexer/read-fields.js';
import type { FieldRead } from './consumer-reads.js';
import { BundledFunction, PROJECT_ROOT } from './bundled-function.js';
import { acknowledge, keyStatement } from './secure-resources.js';
import { notifyAlarmTopic } from './alarm-topic.js';

export const INDEXER_ENTRY = path.join(PROJECT_ROOT, 'functions', 'indexer', 'handler.ts');

export interface ReferenceIndexerProps {
  /** The indexer route's queue (its `visibilityTimeout` must exceed the function's timeout). */
  readonly queue: sqs.IQueue;
  /** Key of the indexer table. */
  readonly encryptionKey: kms.IKey;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Messages per invocation. @default 100 */
  readonly batchSize?: number;
  /** @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the read model (it can be rebuilt with a resync). @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** @default INDEXER_ENTRY */
  readonly entry?: string;
  /**
   * Active X-Ray tracing, so a change traced from the stream (the notifier's `tracing`) can be
   * followed into the indexer: Lambda continues the trace the SQS message carries.
   * @default false
   */
  readonly tracing?: boolean;
  /** Source-mapped stack traces (infra/bundling-options.ts: costs cold-start time). @default false */
  readonly sourceMaps?: boolean;
  /**
   * Continuations one resync sweep may chain through the queue before the indexer stops it and
   * raises `sweepChainAlarm` (the function may loop: Lambda's own detection would stop it after
   * about 16). @default DEFAULT_MAX_SWEEP_CONTINUATIONS (1,000)
   */
  readonly maxSweepContinuations?: number;
  /** Where the sweep-chain alarm sends ALARM and OK. @default - nowhere */
  readonly alarmTopic?: sns.ITopic;
}

export class ReferenceIndexer extends Construct {
  /** The payload fields the indexer reads. */
  static readonly READ_FIELDS = REFERENCE_INDEXER_READ_FIELDS;
  /**
   * What the indexer reads, with the resolution it declares for its free-capacity fields
   * (REFERENCE_INDEXER_RESOLUTIONS: free RAM within 1 GB): give them as its route's
   * `readsFields` so the notifier watches them.
   */
  static readonly READS: readonly FieldRead[] = REFERENCE_INDEXER_READ_FIELDS.map((field) => {
    const resolution = REFERENCE_INDEXER_RESOLUTIONS[field];
    return resolution === undefined ? field : { field, resolution };
  });
  readonly table: dynamodb.Table;
  readonly bundled: BundledFunction;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  /** A resync sweep stopped at `maxSweepContinuations`: resume it (docs/resync-and-indexer.md). */
  readonly sweepChainAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReferenceIndexerProps) {
    super(scope, id);
    const maxSweepContinuations = props.maxSweepContinuations ?? DEFAULT_MAX_SWEEP_CONTINUATIONS;
    if (!Number.isInteger(maxSweepContinuations) || maxSweepContinuations < 1) {
      throw new Error(`referenceIndexer maxSweepContinuations must be a whole number from 1, got ${maxSweepContinuations}`);
    }
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: NODE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
      // Resync runs' bookkeeping items expire (functions/indexer/run-store.ts); node items have no such attribute.
      timeToLiveAttribute: ATTR.expiresAt,
    });
    for (const index of ALL_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.bundled = new BundledFunction(this, 'Indexer', {
      entry: props.entry ?? INDEXER_ENTRY,
      description: 'Reference indexer: applies compute node notifications to a queryable read model (DynamoDB)',
      roleDescription: 'Reference indexer: consume its route queue, write the read model',
      environment: {
        [INDEXER_ENV.tableName]: this.table.tableName,
        [INDEXER_ENV.queueUrl]: props.queue.queueUrl,
        [INDEXER_ENV.maxSweepContinuations]: String(maxSweepContinuations),
      },
      // A long sweep goes on in messages the function sends its own queue: a loop on purpose,
      // bounded by maxSweepContinuations (Lambda developer guide, "Use Lambda recursive loop
      // detection to prevent infinite loops", https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).
      allowRecursiveLoop: true,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
      ...(props.sourceMaps === undefined ? {} : { sourceMaps: props.sourceMaps }),
    });
    const b = this.bundled;
    b.allow('ConsumeRouteQueue', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [props.queue.queueArn]);
    // A resync sweep longer than an invocation goes on in a message the indexer sends itself
    // (functions/indexer/run-store.ts): a new message, so its pieces never count against the
    // queue's maxReceiveCount. The queue's policy only allows EventBridge's rule; within one
    // account, an allow in either the queue's policy or the role's IAM policy suffices (AWS
    // knowledge center, "sqs-accessdenied-errors": both are needed only across accounts, and
    // an explicit deny in either wins; the queue's policy has none).
    b.allow('ContinueSweep', ['sqs:SendMessage'], [props.queue.queueArn]);
    // PutItem: notifications and sweep tombstones; UpdateItem/GetItem: resync runs' progress;
    // ConditionCheckItem: a new node's write checks the sweeps' watermark
    // (a TransactWriteItems is authorized as its PutItem and UpdateItem: "Using IAM with DynamoDB
    // transactions", docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html);
    // Scan: a run's sweep.
    b.allow('WriteReadModel', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:Scan'], [this.table.tableArn]);
    // Each key use only through the service that makes it (kms:ViaService): SQS decrypts the
    // route's messages, DynamoDB encrypts the read model. Same key or not, no statement repeats another.
    // Sending to a queue under a customer managed key takes kms:GenerateDataKey and kms:Decrypt
    // ("Key management" in the SQS developer guide,
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
    if (props.queue.encryptionMasterKey !== undefined) {
      b.role.addToPrincipalPolicy(keyStatement('UseRouteQueueKey', this, props.queue.encryptionMasterKey, ['kms:Decrypt', 'kms:GenerateDataKey'], ['sqs']));
    }
    b.role.addToPrincipalPolicy(
      keyStatement('UseReadModelKey', this, props.encryptionKey, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], ['dynamodb']),
    );

    this.eventSourceMapping = b.function.addEventSourceMapping('RouteQueue', {
      eventSourceArn: props.queue.queueArn,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      reportBatchItemFailures: true,
    });
    // Lambda checks the role's access to the queue when it creates the mapping.
    this.eventSourceMapping.node.addDependency(b.role);
    acknowledge(
      this.eventSourceMapping,
      'Serverless-LambdaEventSourceMappingDestination',
      'An SQS event source mapping has no on-failure destination (Lambda supports them for stream and Kafka sources only); messages that keep failing move to the route queue\'s dead-letter queue through its redrive policy, alarmed.',
    );

    acknowledge(
      b.function,
      'Serverless-LambdaDLQ',
      'Invoked synchronously by its SQS event source mapping; failed messages are redelivered and then moved by the route queue\'s redrive policy to its dead-letter queue (alarmed).',
    );
    if (props.tracing === true) {
      const policy = b.role.node.tryFindChild('DefaultPolicy');
      if (policy !== undefined) {
        acknowledge(policy, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions; added by Lambda active tracing, which the operator turned on.');
      }
    } else {
      acknowledge(
        b.function,
        'Serverless-LambdaTracing',
        'Tracing is opt-in (the `tracing` prop): one conditional PutItem per message; outcomes are logged per batch.',
      );
    }

    // The bound replaces Lambda's loop detection, so reaching it must reach someone: the
    // function logs one JSON line per stopped chain, counted by a metric filter.
    const stoppedChains = new logs.MetricFilter(this, 'SweepChainStopped', {
      logGroup: b.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', SWEEP_CHAIN_STOPPED_MESSAGE),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'IndexerSweepChainsStopped',
      metricValue: '1',
    }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
    this.sweepChainAlarm = new cloudwatch.Alarm(this, 'SweepChainAlarm', {
      metric: stoppedChains,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `A resync sweep of the reference indexer stopped after ${maxSweepContinuations} continuations: its position is saved; resume it with a continuation message (docs/resync-and-indexer.md, "Long sweeps").`,
    });
    notifyAlarmTopic(props.alarmTopic, this.sweepChainAlarm);
  }
}

/**
 * The bundled stack: one `HypervisorNotifier` configured from the app context (`cdk.json`),
 * with one example indexer route, and outputs naming what an operator or indexer needs.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AppContext } from './context.js';
import { HypervisorNotifier, type HypervisorNotifierProps } from './hypervisor-notifier.js';
import type { IndexerRouteOptions } from './indexer-route.js';
import { ReferenceIndexer } from './reference-indexer.js';
import { ResyncFunction } from './resync-function.js';

/** The example route of the bundled stack: updates whose `running_vms` changed. */
export const EXAMPLE_ROUTE: { readonly id: string; readonly options: IndexerRouteOptions } = {
  id: 'RunningVms',
  options: {
    changedFields: ['running_vms'],
    description: 'Example indexer route: compute_node.update notifications whose running_vms changed',
  },
};

/** The reference indexer's route: every notification, stream and resync. */
export const REFERENCE_INDEXER_ROUTE: { readonly id: string; readonly options: IndexerRouteOptions } = {
  id: 'ReferenceIndexer',
  options: {
    description: 'Reference indexer: every compute node notification (create, update, delete; stream and resync)',
    // Six times the indexer function's timeout (30 s), as Lambda recommends for SQS sources.
    visibilityTimeout: Duration.seconds(180),
  },
};

export interface HypervisorNotificationsStackProps extends StackProps {
  readonly config: AppContext;
  /** Passed to the construct (tests). @default - functions/notifier/handler.ts */
  readonly entry?: string;
}

export class HypervisorNotificationsStack extends Stack {
  readonly notifier: HypervisorNotifier;
  readonly resync: ResyncFunction | undefined;
  readonly referenceIndexer: ReferenceIndexer | undefined;

  constructor(scope: Construct, id: string, props: HypervisorNotificationsStackProps) {
    super(scope, id, props);
    const c = props.config;

    let existingTable: dynamodb.ITable | undefined;
    if (c.existingTableName !== undefined && c.existingTableStreamArn !== undefined) {
      existingTable = dynamodb.Table.fromTableAttributes(this, 'ExistingTable', {
        tableName: c.existingTableName,
        tableStreamArn: c.existingTableStreamArn,
        ...(c.existingTableKmsKeyArn === undefined ? {} : { encryptionKey: kms.Key.fromKeyArn(this, 'ExistingTableKey', c.existingTableKmsKeyArn) }),
      });
    }
    let eventBus: events.IEventBus | undefined;
    if (c.existingEventBus !== undefined) {
      eventBus = c.existingEventBus.startsWith('arn:')
        ? events.EventBus.fromEventBusArn(this, 'ExistingEventBus', c.existingEventBus)
        : events.EventBus.fromEventBusName(this, 'ExistingEventBus', c.existingEventBus);
    }

    const notifierProps: HypervisorNotifierProps = {
      ...(existingTable === undefined ? {} : { existingTable }),
      ...(c.existingTableStreamViewType === undefined ? {} : { existingTableStreamViewType: dynamodb.StreamViewType[c.existingTableStreamViewType] }),
      ...(c.tableName === undefined ? {} : { tableName: c.tableName }),
      timeToLiveAttribute: c.timeToLiveAttribute,
      ...(eventBus === undefined ? {} : { eventBus }),
      ...(c.eventBusName === undefined ? {} : { eventBusName: c.eventBusName }),
      archiveRetention: Duration.days(c.archiveRetentionDays),
      eventSource: c.eventSource,
      watchedFields: c.watchedFields,
      publisherHostFallback: c.publisherHostFallback,
      putEventsConcurrency: c.putEventsConcurrency,
      logRetention: c.logRetentionDays as RetentionDays,
      memorySize: c.memorySize,
      timeout: Duration.seconds(c.timeoutSeconds),
      batchSize: c.batchSize,
      maxBatchingWindow: Duration.seconds(c.maxBatchingWindowSeconds),
      parallelizationFactor: c.parallelizationFactor,
      retryAttempts: c.retryAttempts,
      maxRecordAge: Duration.seconds(c.maxRecordAgeSeconds),
      onFailureRetention: Duration.days(c.onFailureRetentionDays),
      ...(c.alarmTopicArn === undefined ? {} : { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', c.alarmTopicArn) }),
      ...(c.alarmEmail === undefined ? {} : { alarmEmail: c.alarmEmail }),
      iteratorAgeThreshold: Duration.seconds(c.iteratorAgeAlarmSeconds),
      ...(props.entry === undefined ? {} : { entry: props.entry }),
    };
    this.notifier = new HypervisorNotifier(this, 'Notifier', notifierProps);

    const n = this.notifier;
    new CfnOutput(this, 'TableName', { value: n.table.tableName, description: 'Compute node table' });
    new CfnOutput(this, 'TableStreamArn', { value: n.table.tableStreamArn ?? '', description: 'Stream read by the notifier' });
    new CfnOutput(this, 'EventBusArn', { value: n.eventBus.eventBusArn, description: 'Bus the notifications are put on' });
    new CfnOutput(this, 'EventSource', { value: n.eventSource, description: 'source of every notification' });
    new CfnOutput(this, 'SchemaRegistryName', { value: n.schemas.registry.attrRegistryName, description: 'EventBridge schema registry of the Detail schemas' });
    new CfnOutput(this, 'ArchiveName', { value: n.archive.archiveName, description: 'Archive to replay notifications from' });
    new CfnOutput(this, 'QuarantineQueueUrl', { value: n.quarantineQueue.queueUrl, description: 'Records the notifier rejected' });
    new CfnOutput(this, 'OnFailureBucketName', { value: n.onFailureBucket.bucketName, description: 'Full records of batches Lambda discarded' });
    new CfnOutput(this, 'FunctionName', { value: n.function.functionName, description: 'Notifier function' });
    new CfnOutput(this, 'DashboardName', { value: n.alarms.dashboard.dashboardName, description: 'CloudWatch dashboard' });

    if (c.exampleRoute) {
      const route = n.addIndexerRoute(EXAMPLE_ROUTE.id, EXAMPLE_ROUTE.options);
      new CfnOutput(this, `${EXAMPLE_ROUTE.id}QueueUrl`, { value: route.queue.queueUrl, description: 'Queue of the example indexer route' });
    }

    this.resync = undefined;
    if (c.resyncFunction) {
      this.resync = new ResyncFunction(this, 'Resync', {
        table: n.table,
        eventBus: n.eventBus,
        eventSource: n.eventSource,
        publisherHostFallback: c.publisherHostFallback,
        putEventsPerSecond: c.resyncPutEventsPerSecond,
        logRetention: c.logRetentionDays as RetentionDays,
      });
      new CfnOutput(this, 'ResyncFunctionName', { value: this.resync.functionName, description: 'Resync function (invoke with {}, then with the continuation it returns)' });
    }

    this.referenceIndexer = undefined;
    if (c.referenceIndexer) {
      const route = n.addIndexerRoute(REFERENCE_INDEXER_ROUTE.id, REFERENCE_INDEXER_ROUTE.options);
      this.referenceIndexer = new ReferenceIndexer(this, 'ReferenceIndexer', {
        queue: route.queue,
        encryptionKey: n.encryptionKey,
        logRetention: c.logRetentionDays as RetentionDays,
      });
      new CfnOutput(this, 'IndexerTableName', { value: this.referenceIndexer.table.tableName, description: 'Read model of the reference indexer (cli query --table)' });
      new CfnOutput(this, 'IndexerFunctionName', { value: this.referenceIndexer.bundled.function.functionName, description: 'Reference indexer function' });
    }
  }
}

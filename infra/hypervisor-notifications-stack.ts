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
import { ALARMS_NOTIFY_NOBODY, HypervisorNotifier, type HypervisorNotifierProps } from './hypervisor-notifier.js';
import type { IndexerRouteOptions } from './indexer-route.js';
import { ReferenceIndexer } from './reference-indexer.js';
import { amqpBridgeOptionsFromContext } from './amqp-bridge-context.js';
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
    description: 'Reference indexer: every compute node notification (create, update, delete; stream and resync) and resync runs\' start/end',
    // The indexer sweeps the nodes a resync run did not refresh once it has seen the run's end.
    resyncRunEvents: true,
    // It records the last heartbeat it applied; `cli query` and `cli drift` print it.
    heartbeats: true,
    // What functions/indexer/notification.ts reads: the notifier watches these, so the read model is
    // never stale beyond the resolution it declares (free RAM within 1 GB, docs/field-resolution.md).
    readsFields: ReferenceIndexer.READS,
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
      tableDeletionProtection: c.tableDeletionProtection,
      ...(eventBus === undefined ? {} : { eventBus }),
      ...(c.eventBusName === undefined ? {} : { eventBusName: c.eventBusName }),
      archive: c.archive,
      archiveRetention: Duration.days(c.archiveRetentionDays),
      schemaRegistry: c.schemaRegistry,
      eventSource: c.eventSource,
      watchedFields: c.watchedFields,
      publisherHostFallback: c.publisherHostFallback,
      putEventsConcurrency: c.putEventsConcurrency,
      ...(c.writerRegionAttribute === undefined ? {} : { writerRegionAttribute: c.writerRegionAttribute }),
      ...(c.notifyWriterRegion === undefined ? {} : { notifyWriterRegion: c.notifyWriterRegion }),
      logRetention: c.logRetentionDays as RetentionDays,
      memorySize: c.memorySize,
      timeout: Duration.seconds(c.timeoutSeconds),
      batchSize: c.batchSize,
      maxBatchingWindow: Duration.seconds(c.maxBatchingWindowSeconds),
      parallelizationFactor: c.parallelizationFactor,
      retryAttempts: c.retryAttempts,
      maxRecordAge: Duration.seconds(c.maxRecordAgeSeconds),
      onFailureRetention: Duration.days(c.onFailureRetentionDays),
      redrive: c.redrive,
      redriveStaleAfter: Duration.minutes(Math.round(c.redriveStaleAfterHours * 60)),
      tracing: c.tracing,
      sourceMaps: c.sourceMaps,
      ...(c.alarmTopicArn === undefined ? {} : { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', c.alarmTopicArn) }),
      ...(c.alarmEmail === undefined ? {} : { alarmEmail: c.alarmEmail }),
      iteratorAgeThreshold: Duration.seconds(c.iteratorAgeAlarmSeconds),
      heartbeat:
        c.heartbeatIntervalMinutes === 0
          ? false
          : {
              interval: Duration.minutes(c.heartbeatIntervalMinutes),
              ...(c.heartbeatStalledAfterMinutes === undefined ? {} : { stalledAfterMinutes: c.heartbeatStalledAfterMinutes }),
            },
      ...(c.expectedComputeNodes === undefined ? {} : { expectedComputeNodes: c.expectedComputeNodes }),
      ...(c.expectedNotifiedFraction === undefined ? {} : { expectedNotifiedFraction: c.expectedNotifiedFraction }),
      ...(props.entry === undefined ? {} : { entry: props.entry }),
      ...(c.amqpBridge === undefined ? {} : { amqpBridge: amqpBridgeOptionsFromContext(this, c.amqpBridge) }),
      ...(c.crossAccountRoutes === undefined ? {} : { crossAccountRoutes: c.crossAccountRoutes }),
      ...(c.consumerAccounts === undefined ? {} : { consumerAccounts: c.consumerAccounts }),
      ...(c.consumerOrganizationId === undefined ? {} : { consumerOrganizationId: c.consumerOrganizationId }),
      ...(c.globalEndpoint === undefined ? {} : { globalEndpoint: c.globalEndpoint }),
    };
    this.notifier = new HypervisorNotifier(this, 'Notifier', notifierProps);

    const n = this.notifier;
    new CfnOutput(this, 'TableName', { value: n.table.tableName, description: 'Compute node table' });
    new CfnOutput(this, 'TableStreamArn', { value: n.table.tableStreamArn ?? '', description: 'Stream read by the notifier' });
    new CfnOutput(this, 'EventBusArn', { value: n.eventBus.eventBusArn, description: 'Bus the notifications are put on' });
    new CfnOutput(this, 'EventSource', { value: n.eventSource, description: 'source of every notification' });
    if (n.schemas !== undefined) new CfnOutput(this, 'SchemaRegistryName', { value: n.schemas.registry.attrRegistryName, description: 'EventBridge schema registry of the Detail schemas' });
    if (n.archive !== undefined) new CfnOutput(this, 'ArchiveName', { value: n.archive.archiveName, description: 'Archive to replay notifications from' });
    new CfnOutput(this, 'QuarantineQueueUrl', { value: n.quarantineQueue.queueUrl, description: 'Records the notifier rejected' });
    new CfnOutput(this, 'OnFailureBucketName', { value: n.onFailureBucket.bucketName, description: 'Full records of batches Lambda discarded' });
    if (n.redrive !== undefined) new CfnOutput(this, 'RedriveQueueUrl', { value: n.redrive.queue.queueUrl, description: 'On-failure objects waiting to be redriven' });
    new CfnOutput(this, 'FunctionName', { value: n.function.functionName, description: 'Notifier function' });
    new CfnOutput(this, 'WatchedFields', {
      value: n.watchedFieldsToken,
      description: 'Payload fields whose change makes a compute_node.update: cdk.json watchedFields plus every field a consumer reads',
    });
    new CfnOutput(this, 'DashboardName', { value: n.alarms.dashboard.dashboardName, description: 'CloudWatch dashboard' });
    // Printed by `cdk deploy`: without a topic or e-mail the alarms notify nobody, and this says how to fix it.
    new CfnOutput(this, 'AlarmNotifications', {
      value: n.alarmTopic === undefined ? ALARMS_NOTIFY_NOBODY : n.alarmTopic.topicArn,
      description: 'Where the alarms send (the SNS topic), or how to make them send somewhere',
    });

    if (n.amqpBridge !== undefined) {
      new CfnOutput(this, 'AmqpBrokerEndpoint', { value: n.amqpBridge.endpoint, description: 'AMQP broker the bridge publishes to (exchange nova, routing key <topic>.info)' });
      new CfnOutput(this, 'AmqpBridgeFunctionName', { value: n.amqpBridge.bundled.function.functionName, description: 'AMQP bridge function' });
    }

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
        encryptionKey: n.encryptionKey,
        writesPerSecond: c.resyncWritesPerSecond,
        logRetention: c.logRetentionDays as RetentionDays,
        sourceMaps: c.sourceMaps,
      });
      new CfnOutput(this, 'ResyncFunctionName', { value: this.resync.functionName, description: 'Resync function (invoke with {}, then with the continuation it returns)' });
      new CfnOutput(this, 'ResyncStateTableName', { value: this.resync.stateTable.tableName, description: 'Resync run lease (cli resync --lease-table)' });
    }

    this.referenceIndexer = undefined;
    if (c.referenceIndexer) {
      const route = n.addIndexerRoute(REFERENCE_INDEXER_ROUTE.id, REFERENCE_INDEXER_ROUTE.options);
      this.referenceIndexer = new ReferenceIndexer(this, 'ReferenceIndexer', {
        queue: route.queue,
        encryptionKey: n.encryptionKey,
        logRetention: c.logRetentionDays as RetentionDays,
        tracing: c.tracing,
        sourceMaps: c.sourceMaps,
        ...(n.alarmTopic === undefined ? {} : { alarmTopic: n.alarmTopic }),
      });
      new CfnOutput(this, 'IndexerTableName', { value: this.referenceIndexer.table.tableName, description: 'Read model of the reference indexer (cli query --table)' });
      new CfnOutput(this, 'IndexerFunctionName', { value: this.referenceIndexer.bundled.function.functionName, description: 'Reference indexer function' });
    }
  }
}

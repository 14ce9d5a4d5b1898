/**
 * `HypervisorNotifier`: the L3 construct of the product. A DynamoDB table of compute nodes (or
 * an existing one) whose stream feeds the notifier function, which puts Nova-compatible
 * `compute_node.create / update / delete` events on an EventBridge bus; indexer routes deliver
 * them to SQS queues. Around it: a quarantine queue for records that cannot be notified, an S3
 * bucket receiving the full records of discarded batches, an archive of the bus for replay, a
 * schema registry of the events, alarms and a dashboard.
 *
 * @example
 * ```ts
 * const notifier = new HypervisorNotifier(this, 'Notifier', { alarmEmail: 'ops@example.com' });
 * notifier.addIndexerRoute('Placement', { changedFields: ['vcpus_used', 'memory_mb_used'] });
 * ```
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { S3OnFailureDestination } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEFAULT_EVENT_SOURCE,
  DEFAULT_PUBLISHER_HOST,
  DEFAULT_PUT_EVENTS_CONCURRENCY,
  ENV,
  loadConfig,
  MIN_FUNCTION_TIMEOUT_SECONDS,
  type NotifierConfig,
} from '../functions/notifier/config.js';
import { ComputeNodePayload, SPEC_WATCHED_FIELDS, type ComputeNodeField } from '../functions/notifier/contract/index.js';
import { METRICS_NAMESPACE } from '../functions/notifier/metric-names.js';
import { NotifierAlarms, ON_FAILURE_BUCKET_METRICS_ID } from './alarms.js';
import { FUNCTION_RUNTIME, bundlingOptions } from './bundling-options.js';
import { NotificationSchemas } from './event-schemas.js';
import { requireRegionOffers } from './region-check.js';
import { ARCHIVE_GAP, SCHEMA_REGISTRY_GAP } from './regions.js';
import { AMQP_BRIDGE_ROUTE_ID, AmqpBridge, bridgeVisibilityTimeout, type AmqpBridgeOptions } from './amqp-bridge.js';
import { CapacityCheck } from './capacity-check.js';
import { QuotaAlarms } from './quota-alarms.js';
import { IndexerRoute, type IndexerRouteOptions } from './indexer-route.js';
import { CrossAccountRoute, type CrossAccountRouteOptions } from './cross-account-route.js';
import { ConsumerAccounts } from './consumer-accounts.js';
import { GlobalEndpoint, type GlobalEndpointOptions } from './global-endpoint.js';
import { checkReads, type FieldRead } from './consumer-reads.js';
import { finestResolutions, formatResolutions, type FieldResolutions } from '../functions/notifier/field-resolution.js';
import { NotifierRedrive, ON_FAILURE_PREFIX } from './redrive.js';
import { PipelineHeartbeat, type HeartbeatOptions } from './heartbeat.js';
import { acknowledge, keyStatement, RETAIN_EXCEPT_ON_CREATE, secureQueue } from './secure-resources.js';
import { COMPUTE_NODE_TABLE } from '../functions/compute-node-table-definition.js';

/** Repository root (this file is `infra/hypervisor-notifier.ts`). */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The notifier's Lambda entry point. */
export const NOTIFIER_ENTRY = path.join(PROJECT_ROOT, 'functions', 'notifier', 'handler.ts');
/**
 * Powertools `service` dimension of the function's metrics. The handler names its Logger and
 * Metrics `hypervisor-notifier`; POWERTOOLS_SERVICE_NAME is set to the same value.
 */
export const NOTIFIER_SERVICE_NAME = 'hypervisor-notifier';

/** An indexer route declared through props; `id` is its construct id. */
export interface IndexerRouteDeclaration extends IndexerRouteOptions {
  readonly id: string;
}

/** A cross-account route declared through props; `id` names it (unique among the routes). */
export interface CrossAccountRouteDeclaration extends CrossAccountRouteOptions {
  readonly id: string;
}

export interface HypervisorNotifierProps {
  // ----- table -----
  /**
   * An existing compute node table to read instead of creating one. It must have a stream
   * (`tableStreamArn`) with view type NEW_AND_OLD_IMAGES. If the table is a `Table`/`TableV2`
   * of this app, its view type is read from it; for an imported table, state it with
   * `existingTableStreamViewType` so a wrong one fails synth. If the table is encrypted with a
   * customer-managed key, import it with `encryptionKey` so the function may decrypt the stream.
   * @default - a new table (see the other table props)
   */
  readonly existingTable?: dynamodb.ITable;
  /**
   * The stream view type of `existingTable`, when known. Anything but NEW_AND_OLD_IMAGES fails synth.
   * @default - read from `existingTable` when it is defined in this app; otherwise not checked at synth
   *   (the function rejects records without both images at run time)
   */
  readonly existingTableStreamViewType?: dynamodb.StreamViewType;
  /** Physical name of the new table. @default - generated by CloudFormation */
  readonly tableName?: string;
  /** TTL attribute of the new table (epoch seconds). @default 'expires_at' (COMPUTE_NODE_TABLE.timeToLiveAttribute) */
  readonly timeToLiveAttribute?: string;
  /**
   * DynamoDB deletion protection on the new table. Off by default because the table is
   * `RetainExceptOnCreate`: if the stack's first create fails, CloudFormation deletes the table
   * on the rollback, which DynamoDB refuses for a protected table (the rollback would fail and
   * leave the table behind). Turn it on with a second deploy once the first has succeeded; the
   * table is kept on a stack delete or replacement either way. @default false
   */
  readonly tableDeletionProtection?: boolean;

  // ----- encryption -----
  /**
   * Customer-managed key for the new table, the quarantine queue, the on-failure bucket and the
   * indexer route queues. Removing the stack keeps it (the table and the bucket are kept too).
   * @default - a new key with yearly rotation, retained on stack deletion
   */
  readonly encryptionKey?: kms.IKey;

  // ----- event bus -----
  /** The bus to publish on. @default - a new custom event bus */
  readonly eventBus?: events.IEventBus;
  /** Name of the new bus (ignored with `eventBus`). @default - generated by CloudFormation */
  readonly eventBusName?: string;
  /**
   * Archive the notifications for replay (EventBridge archives are missing in a few regions:
   * infra/regions.ts; a known region without them fails synth). @default true
   */
  readonly archive?: boolean;
  /** How long the archive keeps the notifications for replay; `Duration.days(0)` keeps them indefinitely. @default Duration.days(90) */
  readonly archiveRetention?: Duration;
  /**
   * Publish the notifications' schemas in an EventBridge schema registry (missing in a few
   * regions: infra/regions.ts; a known region without them fails synth). @default true
   */
  readonly schemaRegistry?: boolean;
  /** Name of the schema registry. @default - generated by CloudFormation */
  readonly schemaRegistryName?: string;
  /**
   * Accounts that may create and manage rules on the bus for their own targets, only rules they
   * created (`events:creatorAccount`) and selecting only `eventSource`, and read the schema
   * registry and download its code bindings (infra/consumer-accounts.ts, docs/cross-account.md).
   * Not with `consumerOrganizationId`.
   * @default - none
   */
  readonly consumerAccounts?: readonly string[];
  /**
   * An EventBridge global endpoint (infra/global-endpoint.ts): the notifier puts events through it
   * (SigV4a), with event replication to the bus of the same name in `secondaryRegion`, which a
   * second instance of this stack must hold (docs/cross-account.md). Needs a bus name known at
   * synth (`eventBusName`). Consumers must deduplicate on `message_id` during a failover.
   * @default - none: events go to the bus's regional endpoint
   */
  readonly globalEndpoint?: GlobalEndpointOptions;
  /** The same for every account of this AWS Organizations organization (`o-…`, `aws:PrincipalOrgID`). @default - none */
  readonly consumerOrganizationId?: string;

  // ----- notifier configuration (the function's environment) -----
  /** `source` of the events (EVENT_SOURCE). @default 'openstack.nova' (DEFAULT_EVENT_SOURCE) */
  readonly eventSource?: string;
  /**
   * Payload fields whose change makes a `compute_node.update`. The function watches (WATCHED_FIELDS)
   * the union of these and every field a consumer declares it reads (a route's `readsFields` and
   * `changedFields`, `declareConsumer`), so no consumer keeps a stale value; see `watchedFields`.
   * These are watched exactly; a field only consumers read may be watched at the finest
   * resolution they declared (`fieldResolutions`, docs/field-resolution.md).
   * @default SPEC_WATCHED_FIELDS (the spec's nine)
   */
  readonly watchedFields?: readonly string[];
  /** Host used in `publisher_id` when a node has none (PUBLISHER_HOST_FALLBACK). @default 'hypervisor-notifier' (DEFAULT_PUBLISHER_HOST) */
  readonly publisherHostFallback?: string;
  /** PutEvents requests in flight per invocation (PUT_EVENTS_CONCURRENCY). @default 4 (DEFAULT_PUT_EVENTS_CONCURRENCY) */
  readonly putEventsConcurrency?: number;
  /**
   * Notify only the writes made in one region (WRITER_REGION_ATTRIBUTE), for a DynamoDB global
   * table with a notifier in each region: the attribute in which writers mark the region they
   * wrote in. A record marked with another region is skipped (metric `WritesOfOtherRegions`); one
   * without a usable mark is notified and counted (`UnmarkedWrites`). docs/cross-account.md.
   * @default - every record is notified, whatever it carries
   */
  readonly writerRegionAttribute?: string;
  /** The region whose writes are notified (NOTIFY_WRITER_REGION); only with `writerRegionAttribute`. @default - the function's own region (AWS_REGION) */
  readonly notifyWriterRegion?: string;

  // ----- function -----
  /** @default 512 */
  readonly memorySize?: number;
  /** At least 3 seconds (the notifier keeps back max(1 s, 20 %) of an invocation to answer Lambda). @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /**
   * Retention of the function's log group, and of the redrive's and the AMQP bridge's (and its new
   * broker's) unless `amqpBridge.logRetention` says otherwise. @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Entry file of the function (for tests or forks). @default NOTIFIER_ENTRY (functions/notifier/handler.ts) */
  readonly entry?: string;

  // ----- event source mapping -----
  /** Records per invocation (1–10,000). @default 100 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (0–300 s). @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard (1–10); order per `uuid` is kept at any value. @default 1 */
  readonly parallelizationFactor?: number;
  /** Retries of a failed batch (with bisection) before it goes to the on-failure bucket (0–10,000). @default 20 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure bucket unprocessed (60 s – 7 days). @default Duration.hours(6) */
  readonly maxRecordAge?: Duration;
  /**
   * How long the on-failure bucket keeps discarded batches, and the quarantine's claim-checked
   * messages (under quarantine/): keep it at least the quarantine queue's 14 days, or a pointer
   * can outlive its object. @default Duration.days(90)
   */
  readonly onFailureRetention?: Duration;

  // ----- alarms -----
  /** Topic the alarms notify (alarm and OK). @default - a new encrypted topic if `alarmEmail` is set, else no alarm actions */
  readonly alarmTopic?: sns.ITopic;
  /** E-mail address subscribed to the alarm topic (to `alarmTopic` if given, else to a new topic). @default - no subscription */
  readonly alarmEmail?: string;
  /** Iterator age above which the iterator-age alarm fires. @default Duration.minutes(5) */
  readonly iteratorAgeThreshold?: Duration;
  /** @default - generated by CloudFormation */
  readonly dashboardName?: string;
  /**
   * The heartbeat (infra/heartbeat.ts): an EventBridge Scheduler write of the reserved heartbeat
   * item every `interval`, carried through the stream and the notifier as a
   * `hypervisor_notifier.heartbeat` event, with its lag on the dashboard and a "pipeline stalled"
   * alarm when none was published for `stalledAfterMinutes`. `false` turns it off.
   * @default - on: every minute, stalled after 5 minutes
   */
  readonly heartbeat?: HeartbeatOptions | false;

  // ----- capacity -----
  /**
   * Compute nodes this deployment expects: synth warns when they, with the rules on the bus, come
   * within half of a default EventBridge quota of the stack's region (infra/capacity-check.ts).
   * @default - unknown: only the number of rules on the bus is checked
   */
  readonly expectedComputeNodes?: number;
  /** Stream records that become notifications, for that check (0–1). @default 1 (every report notified: the bound) */
  readonly expectedNotifiedFraction?: number;

  // ----- routes -----
  /** Indexer routes to create (more can be added with `addIndexerRoute`). @default - none */
  readonly indexerRoutes?: readonly IndexerRouteDeclaration[];
  /**
   * Routes to targets in other accounts (infra/cross-account-route.ts, docs/cross-account.md):
   * an SQS queue, SNS topic or Lambda function in this region, or an event bus in any region,
   * each through an execution role of its own; more with `addCrossAccountRoute`.
   * @default - none
   */
  readonly crossAccountRoutes?: readonly CrossAccountRouteDeclaration[];
  /**
   * An AMQP bridge (infra/amqp-bridge.ts): a route (id `AmqpBridge`) whose function publishes
   * each selected notification to an AMQP broker exactly as Nova's messagingv2 driver does.
   * @default - none
   */
  readonly amqpBridge?: AmqpBridgeOptions;

  // ----- redrive and tracing -----
  /** Redrive every batch Lambda gives up on, automatically (infra/redrive.ts). @default true */
  readonly redrive?: boolean;
  /** An on-failure object still not redriven after this long raises an alarm (5 minutes – 7 days). @default Duration.hours(6) */
  readonly redriveStaleAfter?: Duration;
  /**
   * Active X-Ray tracing of the notifier and the redrive (Powertools Tracer), with the trace
   * header passed on each PutEvents entry so a change can be followed to an indexer. Costs
   * X-Ray traces (see docs/operations.md, "Tracing").
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Source-mapped stack traces in the notifier's, the redrive's and the AMQP bridge's logs
   * (NODE_OPTIONS `--enable-source-maps` and a map in the bundle; the bridge's own
   * `amqpBridge.sourceMaps` wins). Adds about a third to every cold start
   * (infra/bundling-options.ts, `npm run bench` §5).
   * @default false
   */
  readonly sourceMaps?: boolean;
}

/** The payload's fields in payload order (the order WATCHED_FIELDS and `changed_fields` use). */
const PAYLOAD_FIELDS = Object.keys(ComputeNodePayload.fields) as ComputeNodeField[];

/**
 * Synth's warning (and the bundled stack's `AlarmNotifications` output) when neither `alarmTopic`
 * nor `alarmEmail` is set: the alarms still change state, but nobody hears of it.
 */
export const ALARMS_NOTIFY_NOBODY =
  'The alarms notify nobody: neither alarmEmail nor alarmTopicArn is set. Deploy with -c alarmEmail=you@example.com (and confirm the subscription e-mail) or -c alarmTopicArn=arn:aws:sns:REGION:ACCOUNT:TOPIC, or set one of them in cdk.json.';

/** Raised at synth time for a configuration that cannot work. */
export class HypervisorNotifierConfigError extends Error {
  override readonly name = 'HypervisorNotifierConfigError';
}

/**
 * The S3 on-failure destination with the execution-role grant narrowed to what Lambda needs
 * to write a discarded batch (s3:PutObject, s3:ListBucket) instead of the base class's
 * read/write/delete grant; the grant is added by `HypervisorNotifier` itself.
 */
class S3WriteOnlyOnFailureDestination extends S3OnFailureDestination {
  constructor(private readonly destinationBucket: s3.IBucket) {
    super(destinationBucket);
  }
  override bind(_target: lambda.IEventSourceMapping, _targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    return { destination: this.destinationBucket.bucketArn };
  }
}

export class HypervisorNotifier extends Construct {
  /** The compute node table (new or existing). */
  readonly table: dynamodb.ITable;
  readonly encryptionKey: kms.IKey;
  readonly eventBus: events.IEventBus;
  /** The archive, unless `archive: false`. */
  readonly archive: events.Archive | undefined;
  /** The schema registry, unless `schemaRegistry: false`. */
  readonly schemas: NotificationSchemas | undefined;
  /** The bus and registry policies of `consumerAccounts` / `consumerOrganizationId` (undefined without them). */
  readonly consumerAccounts: ConsumerAccounts | undefined;
  /** The global endpoint the notifier publishes through (undefined without `globalEndpoint`). */
  readonly globalEndpoint: GlobalEndpoint | undefined;
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly quarantineQueue: sqs.Queue;
  readonly onFailureBucket: s3.Bucket;
  readonly alarmTopic: sns.ITopic | undefined;
  readonly alarms: NotifierAlarms;
  /** The alarm on the first quota wall, EventBridge's rule invocations (docs/capacity.md). */
  readonly quotaAlarms: QuotaAlarms;
  /** The heartbeat schedule and its stalled alarm (undefined with `heartbeat: false`). */
  readonly heartbeat: PipelineHeartbeat | undefined;
  /** The automatic redrive of discarded batches (undefined with `redrive: false`). */
  readonly redrive: NotifierRedrive | undefined;
  /** The fields configured with the `watchedFields` prop (validated), before consumers are added. */
  readonly configuredWatchedFields: readonly ComputeNodeField[];
  /**
   * The effective watched fields as a comma-separated string token, resolved at synth (consumers
   * may be declared after the constructor): the function's WATCHED_FIELDS and the stack output.
   */
  readonly watchedFieldsToken: string;
  /**
   * The effective resolutions (`field=resolution,...`, WATCHED_FIELD_RESOLUTIONS) as a string
   * token resolved at synth; absent from the environment when every watched field is exact.
   */
  readonly fieldResolutionsToken: string;
  /** The event source (`source` of every event). */
  readonly eventSource: string;
  /** The AMQP bridge, when `amqpBridge` is set. */
  readonly amqpBridge: AmqpBridge | undefined;
  private readonly routes = new Map<string, IndexerRoute>();
  private readonly crossAccount = new Map<string, CrossAccountRoute>();
  private readonly consumerFields = new Map<string, readonly ComputeNodeField[]>();
  /** Per consumer, field → the resolution it declared (`undefined`: exact). */
  private readonly consumerReads = new Map<string, ReadonlyMap<ComputeNodeField, number | undefined>>();
  private readonly baseConfig: NotifierConfig;

  constructor(scope: Construct, id: string, props: HypervisorNotifierProps = {}) {
    super(scope, id);

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Compute node notifications: table, quarantine queue, on-failure bucket, indexer queues',
        enableKeyRotation: true,
        // The table and the bucket are retained; their data is unreadable without the key.
        removalPolicy: RETAIN_EXCEPT_ON_CREATE,
      });

    const timeout = checkTimeout(props.timeout ?? Duration.seconds(60));

    // ----- table -----
    this.table = props.existingTable ?? this.createTable(props);
    if (props.existingTable !== undefined) checkExistingTable(props.existingTable, props.existingTableStreamViewType);
    const streamArn = this.table.tableStreamArn;
    if (streamArn === undefined) {
      throw new HypervisorNotifierConfigError(
        `the table ${this.table.node.path} has no stream: enable a ${COMPUTE_NODE_TABLE.streamViewType} stream and import the table with its tableStreamArn`,
      );
    }

    // ----- bus, archive, schemas -----
    this.eventBus = props.eventBus ?? new events.EventBus(this, 'EventBus', props.eventBusName === undefined ? {} : { eventBusName: props.eventBusName });
    this.eventSource = props.eventSource ?? DEFAULT_EVENT_SOURCE;
    this.globalEndpoint = props.globalEndpoint === undefined ? undefined : new GlobalEndpoint(this, 'GlobalEndpoint', { ...props.globalEndpoint, eventBus: this.eventBus });
    this.archive = undefined;
    if (props.archive ?? true) {
      requireRegionOffers(this, ARCHIVE_GAP);
      this.archive = new events.Archive(this, 'Archive', {
        sourceEventBus: this.eventBus,
        description: `Compute node notifications (source ${this.eventSource}) for replay`,
        eventPattern: { source: [this.eventSource] },
        retention: props.archiveRetention ?? Duration.days(90),
      });
    }
    this.schemas = undefined;
    if (props.schemaRegistry ?? true) {
      requireRegionOffers(this, SCHEMA_REGISTRY_GAP);
      this.schemas = new NotificationSchemas(this, 'Schemas', props.schemaRegistryName === undefined ? {} : { registryName: props.schemaRegistryName });
    }
    this.consumerAccounts =
      props.consumerAccounts === undefined && props.consumerOrganizationId === undefined
        ? undefined
        : new ConsumerAccounts(this, 'ConsumerAccounts', {
            eventBus: this.eventBus,
            ...(this.schemas === undefined ? {} : { registry: this.schemas.registry }),
            eventSource: this.eventSource,
            ...(props.consumerAccounts === undefined ? {} : { consumerAccounts: props.consumerAccounts }),
            ...(props.consumerOrganizationId === undefined ? {} : { consumerOrganizationId: props.consumerOrganizationId }),
          });

    // ----- quarantine queue and on-failure bucket -----
    this.quarantineQueue = secureQueue(this, 'QuarantineQueue', {
      encryptionKey: this.encryptionKey,
      retentionPeriod: Duration.days(14),
      // A quarantine message holds the whole stream record (two images of up to 400 KB).
      maxMessageSizeBytes: 1024 * 1024,
      removalPolicy: RETAIN_EXCEPT_ON_CREATE,
    });
    acknowledge(
      this.quarantineQueue,
      'AwsSolutions-SQS3',
      'The quarantine queue is itself the dead-letter store of records the notifier rejected (alarmed on depth, 14-day retention); it has no consumer that could fail.',
    );
    acknowledge(
      this.quarantineQueue,
      'Serverless-SQSRedrivePolicy',
      'The quarantine queue is a terminal dead-letter store read by operators; a redrive policy would only move rejected records one hop further.',
    );

    this.onFailureBucket = new s3.Bucket(this, 'OnFailureBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireDiscardedBatches', expiration: props.onFailureRetention ?? Duration.days(90) }],
      // Request metrics: PutRequests counts discarded batches (Lambda writes them under aws/lambda/;
      // the quarantine's claim-checked messages go under quarantine/ and are not counted).
      metrics: [{ id: ON_FAILURE_BUCKET_METRICS_ID, prefix: ON_FAILURE_PREFIX }],
      removalPolicy: RETAIN_EXCEPT_ON_CREATE,
    });
    acknowledge(
      this.onFailureBucket,
      'AwsSolutions-S1',
      'Only the Lambda service writes here (discarded stream batches) through the notifier role; each write is alarmed via S3 request metrics and object-level access is auditable with CloudTrail data events. A server-access-log bucket would itself need this exemption.',
    );

    // ----- function -----
    const environment: Record<string, string> = {
      [ENV.eventBusName]: this.eventBus.eventBusArn,
      [ENV.eventSource]: this.eventSource,
      // Validated here as configured; the function gets the union with the consumers' fields.
      [ENV.watchedFields]: (props.watchedFields ?? SPEC_WATCHED_FIELDS).join(','),
      [ENV.publisherHostFallback]: props.publisherHostFallback ?? DEFAULT_PUBLISHER_HOST,
      [ENV.quarantineQueueUrl]: this.quarantineQueue.queueUrl,
      // A quarantine message over SQS's 1 MiB is kept whole under quarantine/ (claim check).
      [ENV.quarantineBucket]: this.onFailureBucket.bucketName,
      [ENV.putEventsConcurrency]: String(props.putEventsConcurrency ?? DEFAULT_PUT_EVENTS_CONCURRENCY),
      // In the redrive's too (it gets this environment): it publishes what the stream would have.
      ...(props.writerRegionAttribute === undefined ? {} : { [ENV.writerRegionAttribute]: props.writerRegionAttribute }),
      ...(props.notifyWriterRegion === undefined ? {} : { [ENV.notifyWriterRegion]: props.notifyWriterRegion }),
    };
    this.baseConfig = validateEnvironment(environment);
    this.configuredWatchedFields = this.baseConfig.watchedFields;
    // As configured (so an existing deployment's value does not change), then what only consumers read.
    const configured = props.watchedFields ?? SPEC_WATCHED_FIELDS;
    this.watchedFieldsToken = Lazy.string({
      produce: () => [...configured, ...this.watchedFields.filter((f) => !configured.includes(f))].join(','),
    });
    this.fieldResolutionsToken = Lazy.string({ produce: () => formatResolutions(this.fieldResolutions) || undefined });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RETAIN_EXCEPT_ON_CREATE,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Notifier: read the compute node stream, publish notifications, quarantine and discard records',
    });
    const opted = bundlingOptions({ sourceMaps: props.sourceMaps === true, tracing: props.tracing === true, globalEndpoint: props.globalEndpoint !== undefined });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry ?? NOTIFIER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(props.tracing === true ? { tracing: lambda.Tracing.ACTIVE } : {}),
      description: 'Turns compute node table changes into compute_node.create/update/delete notifications on EventBridge',
      environment: {
        ...environment,
        [ENV.watchedFields]: this.watchedFieldsToken,
        [ENV.watchedFieldResolutions]: this.fieldResolutionsToken,
        POWERTOOLS_SERVICE_NAME: NOTIFIER_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...(props.tracing === true ? { POWERTOOLS_TRACE_ENABLED: 'true' } : {}),
        ...opted.environment,
        // The notifier only: the redrive keeps publishing to the regional bus (and loads no SigV4a signer).
        ...(this.globalEndpoint === undefined ? {} : { [ENV.globalEndpointId]: this.globalEndpoint.endpointId }),
      },
      // ESM, minified; source maps and the tracer only when opted in; the AWS SDK bundled (bundling-options.ts).
      bundling: { ...opted.bundling, forceDockerBundling: false },
    });

    this.grantNotifierPermissions(streamArn);
    this.globalEndpoint?.grantPutEvents(this.role);

    // ----- event source mapping -----
    this.eventSourceMapping = this.function.addEventSourceMapping('StreamMapping', {
      eventSourceArn: streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      parallelizationFactor: props.parallelizationFactor ?? 1,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 20,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
      reportBatchItemFailures: true,
      onFailure: new S3WriteOnlyOnFailureDestination(this.onFailureBucket),
      supportS3OnFailureDestination: true,
    });
    // Lambda checks the role's access to the stream and the bucket when it creates the mapping.
    this.eventSourceMapping.node.addDependency(this.role);

    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      'The function is only invoked synchronously by its DynamoDB stream event source mapping, for which a function DLQ never applies; failed batches go to the mapping\'s S3 on-failure destination and rejected records to the quarantine queue.',
    );
    if (props.tracing !== true) acknowledge(
      this.function,
      'Serverless-LambdaTracing',
      'Traces would add little: the function makes only PutEvents/SendMessage calls, whose latency, retries and failures are published as metrics (PutEventsRetries/Failures) and alarmed; enabling X-Ray would add a Resource:* grant.',
    );

    // ----- alarms -----
    this.alarmTopic = this.createAlarmTopic(props);
    if (this.alarmTopic === undefined) {
      Annotations.of(this).addWarningV2('hypervisor-notifications:alarms-notify-nobody', ALARMS_NOTIFY_NOBODY);
    }
    this.alarms = new NotifierAlarms(this, 'Monitoring', {
      function: this.function,
      serviceName: NOTIFIER_SERVICE_NAME,
      metricsNamespace: METRICS_NAMESPACE,
      quarantineQueue: this.quarantineQueue,
      onFailureBucketName: this.onFailureBucket.bucketName,
      eventBusName: this.eventBus.eventBusName,
      iteratorAgeThreshold: props.iteratorAgeThreshold ?? Duration.minutes(5),
      ...(this.alarmTopic === undefined ? {} : { alarmTopic: this.alarmTopic }),
      ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
    });

    this.quotaAlarms = new QuotaAlarms(this, 'QuotaAlarms', { dashboard: this.alarms.dashboard, alarmTopic: this.alarmTopic });

    this.heartbeat =
      props.heartbeat === false
        ? undefined
        : new PipelineHeartbeat(this, 'Heartbeat', {
            ...props.heartbeat,
            table: this.table,
            serviceName: NOTIFIER_SERVICE_NAME,
            metricsNamespace: METRICS_NAMESPACE,
            dashboard: this.alarms.dashboard,
            ...(this.alarmTopic === undefined ? {} : { alarmTopic: this.alarmTopic }),
          });

    // Counted at synth: every consumer (routes included) has a rule on the bus, and so has the archive.
    new CapacityCheck(this, 'Capacity', {
      rules: () => this.consumers.size + (this.archive === undefined ? 0 : 1),
      batchSize: props.batchSize ?? 100,
      ...(props.expectedComputeNodes === undefined ? {} : { expectedComputeNodes: props.expectedComputeNodes }),
      ...(props.expectedNotifiedFraction === undefined ? {} : { expectedNotifiedFraction: props.expectedNotifiedFraction }),
    });

    this.redrive =
      props.redrive === false
        ? undefined
        : new NotifierRedrive(this, 'Redrive', {
            onFailureBucket: this.onFailureBucket,
            encryptionKey: this.encryptionKey,
            // The notifier's own values: the redrive publishes exactly what the stream would have.
            notifierEnvironment: { ...environment, [ENV.watchedFields]: this.watchedFieldsToken, [ENV.watchedFieldResolutions]: this.fieldResolutionsToken },
            eventBus: this.eventBus,
            quarantineQueue: this.quarantineQueue,
            ...(props.redriveStaleAfter === undefined ? {} : { staleAfter: props.redriveStaleAfter }),
            ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
            ...(props.sourceMaps === undefined ? {} : { sourceMaps: props.sourceMaps }),
            ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
            ...(this.alarmTopic === undefined ? {} : { alarmTopic: this.alarmTopic }),
          });

    for (const route of props.indexerRoutes ?? []) {
      const { id: routeId, ...options } = route;
      this.addIndexerRoute(routeId, options);
    }
    for (const route of props.crossAccountRoutes ?? []) {
      const { id: routeId, ...options } = route;
      this.addCrossAccountRoute(routeId, options);
    }

    this.amqpBridge = props.amqpBridge === undefined ? undefined : this.createAmqpBridge(props.amqpBridge, props);
  }

  /** The AMQP bridge: an indexer route (id `AmqpBridge`) selecting what `o` asks for, and the bridge function reading its queue. */
  private createAmqpBridge(o: AmqpBridgeOptions, props: HypervisorNotifierProps): AmqpBridge {
    const route = this.addIndexerRoute(AMQP_BRIDGE_ROUTE_ID, {
      ...(o.detailTypes === undefined ? {} : { detailTypes: o.detailTypes }),
      ...(o.changedFields === undefined ? {} : { changedFields: o.changedFields }),
      ...(o.causes === undefined ? {} : { causes: o.causes }),
      ...(o.origins === undefined ? {} : { origins: o.origins }),
      description: 'AMQP bridge: compute node notifications for oslo.messaging consumers',
      visibilityTimeout: bridgeVisibilityTimeout(o),
      maxReceiveCount: o.maxReceiveCount ?? 50,
    });
    return new AmqpBridge(this, 'AmqpBridge', {
      sourceMaps: props.sourceMaps === true,
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
      ...o,
      queue: route.queue,
    });
  }

  /**
   * Adds an EventBridge rule on the bus delivering the selected notifications to a new SQS
   * queue (with its own dead-letter queue; the rule target has a dead-letter queue too), plus
   * alarms and dashboard widgets for it.
   */
  addIndexerRoute(id: string, options: IndexerRouteOptions = {}): IndexerRoute {
    if (this.routes.has(id) || this.crossAccount.has(id)) throw new HypervisorNotifierConfigError(`a route '${id}' already exists`);
    // A route filtering on changed fields reads them: an unwatched one would never be listed.
    const consumer = `indexer route '${id}'`;
    const reads = this.checkConsumer(consumer, consumer, [...(options.readsFields ?? []), ...(options.changedFields ?? [])]);
    const route = new IndexerRoute(this, `Route${id}`, {
      ...options,
      eventBus: this.eventBus,
      eventSource: this.eventSource,
      encryptionKey: this.encryptionKey,
    });
    this.routes.set(id, route);
    this.addConsumer(consumer, reads);
    this.alarms.addRoute(id, route);
    return route;
  }

  /**
   * Adds an EventBridge rule on the bus delivering the selected notifications to a target in
   * another account (or a bus in another region) through an execution role the route creates,
   * with a delivery dead-letter queue and alarms in our account. The resource policy the target's
   * account must attach is the route's `TargetPolicy` output (docs/cross-account.md).
   * @throws CrossAccountTargetError for a target that cannot be delivered to (the message says why)
   */
  addCrossAccountRoute(id: string, options: CrossAccountRouteOptions): CrossAccountRoute {
    if (this.routes.has(id) || this.crossAccount.has(id)) throw new HypervisorNotifierConfigError(`a route '${id}' already exists`);
    const consumer = `cross-account route '${id}'`;
    const reads = this.checkConsumer(consumer, consumer, [...(options.readsFields ?? []), ...(options.changedFields ?? [])]);
    const route = new CrossAccountRoute(this, `CrossAccountRoute${id}`, {
      ...options,
      eventBus: this.eventBus,
      eventSource: this.eventSource,
      encryptionKey: this.encryptionKey,
    });
    this.crossAccount.set(id, route);
    this.addConsumer(consumer, reads);
    this.alarms.addCrossAccountRoute(id, { ruleName: route.ruleName, deliveryDeadLetterQueue: route.deliveryDeadLetterQueue, targetArn: route.target.arn });
    return route;
  }

  /** The cross-account routes added so far, by id. */
  get crossAccountRoutes(): ReadonlyMap<string, CrossAccountRoute> {
    return this.crossAccount;
  }

  /**
   * Declares a consumer defined elsewhere (another stack, a rule of your own on the bus) and the
   * payload fields it reads: the notifier then watches them too, so a change to any of them is
   * notified. A field given as `{ field, resolution }` is read at that resolution (an update is
   * notified when the value moves by a bucket of that width, docs/field-resolution.md); a name
   * alone is read exactly. Call it any time before synth.
   * @throws HypervisorNotifierConfigError naming the consumer and the field, for a field the payload
   *   does not have, or a resolution that is not a whole number ≥ 1 on an integer field
   */
  declareConsumer(name: string, fields: readonly FieldRead[]): void {
    if (name.trim() === '') throw new HypervisorNotifierConfigError('a consumer needs a name');
    this.addConsumer(name, this.checkConsumer(name, `consumer '${name}'`, fields));
  }

  /**
   * The fields the function watches: the configured `watchedFields` plus every field a consumer
   * declared, in payload order. Final once every consumer is declared (the template reads it at synth).
   */
  get watchedFields(): readonly ComputeNodeField[] {
    const all = new Set<string>(this.configuredWatchedFields);
    for (const fields of this.consumerFields.values()) for (const f of fields) all.add(f);
    return PAYLOAD_FIELDS.filter((f) => all.has(f));
  }

  /** The consumers declared so far (routes as `indexer route '<id>'`) and the fields each reads. */
  get consumers(): ReadonlyMap<string, readonly ComputeNodeField[]> {
    return this.consumerFields;
  }

  /**
   * The effective resolution of each watched field that has one: the finest any consumer
   * declared. A field some consumer reads exactly, or one of the configured `watchedFields`
   * (read by consumers nobody declared), is exact and not listed.
   */
  get fieldResolutions(): FieldResolutions {
    return finestResolutions(this.consumerReads.values(), this.configuredWatchedFields);
  }

  /** The consumers declared so far and, per field they read, the resolution each declared (`undefined`: exact). */
  get consumerResolutions(): ReadonlyMap<string, ReadonlyMap<ComputeNodeField, number | undefined>> {
    return this.consumerReads;
  }

  /** The function's configuration exactly as it will run (validated by the function's own `loadConfig`), with the effective watched fields and resolutions. */
  get config(): NotifierConfig {
    return { ...this.baseConfig, watchedFields: this.watchedFields, fieldResolutions: this.fieldResolutions };
  }

  /** The reads of a new consumer, checked against the payload; `label` names it in errors. */
  private checkConsumer(key: string, label: string, fields: readonly FieldRead[]): ReadonlyMap<ComputeNodeField, number | undefined> {
    if (this.consumerFields.has(key)) throw new HypervisorNotifierConfigError(`${label} is already declared`);
    const checked = checkReads(label, fields);
    if (!checked.ok) throw new HypervisorNotifierConfigError(checked.problem);
    return checked.reads;
  }

  private addConsumer(key: string, reads: ReadonlyMap<ComputeNodeField, number | undefined>): void {
    this.consumerFields.set(key, [...reads.keys()]);
    this.consumerReads.set(key, reads);
  }

  /** The routes added so far, by id. */
  get indexerRoutes(): ReadonlyMap<string, IndexerRoute> {
    return this.routes;
  }

  private createTable(props: HypervisorNotifierProps): dynamodb.Table {
    return new dynamodb.Table(this, 'Table', {
      ...(props.tableName === undefined ? {} : { tableName: props.tableName }),
      partitionKey: { name: COMPUTE_NODE_TABLE.partitionKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType[COMPUTE_NODE_TABLE.streamViewType],
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      deletionProtection: props.tableDeletionProtection ?? false,
      removalPolicy: RETAIN_EXCEPT_ON_CREATE,
      timeToLiveAttribute: props.timeToLiveAttribute ?? COMPUTE_NODE_TABLE.timeToLiveAttribute,
    });
  }

  /** Exactly: read this stream, put events on this bus, send to the quarantine queue, write discarded batches, write its logs, use the keys involved. */
  private grantNotifierPermissions(streamArn: string): void {
    const add = (sid: string, actions: string[], resources: string[]): void => {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    };
    add('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [this.logGroup.logGroupArn]);
    add('ReadComputeNodeStream', ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [streamArn]);
    // ListStreams has no resource-level permissions (Service Authorization Reference); the
    // Lambda poller's documented permission set for DynamoDB sources includes it.
    add('ListStreams', ['dynamodb:ListStreams'], ['*']);
    add('PublishNotifications', ['events:PutEvents'], [this.eventBus.eventBusArn]);
    // At a cold start the function asks whether the bus exists: PutEvents to a missing bus answers success.
    add('CheckEventBus', ['events:DescribeEventBus'], [this.eventBus.eventBusArn]);
    add('QuarantineRecords', ['sqs:SendMessage'], [this.quarantineQueue.queueArn]);
    add('WriteDiscardedBatches', ['s3:PutObject'], [this.onFailureBucket.arnForObjects('*')]);
    add('ListDiscardedBatches', ['s3:ListBucket'], [this.onFailureBucket.bucketArn]);

    // KMS, each use through the service that makes it (kms:ViaService, see keyStatement):
    // DynamoDB decrypts the stream of a CMK-encrypted table, SQS encrypts quarantine messages
    // (GenerateDataKey, and Decrypt to check a new data key: SQS developer guide, key management,
    // "Configure KMS permissions for producers"), S3 encrypts discarded batches (GenerateDataKey).
    // One statement per key and service: none repeats another.
    const uses: { key: kms.IKey | undefined; service: string; label: string; actions: string[] }[] = [
      { key: this.table.encryptionKey, service: 'dynamodb', label: 'DynamoDB', actions: ['kms:Decrypt'] },
      { key: this.quarantineQueue.encryptionMasterKey, service: 'sqs', label: 'Sqs', actions: ['kms:Decrypt', 'kms:GenerateDataKey'] },
      { key: this.onFailureBucket.encryptionKey, service: 's3', label: 'S3', actions: ['kms:GenerateDataKey'] },
    ];
    const keys: kms.IKey[] = [];
    for (const use of uses) {
      if (use.key === undefined) continue;
      if (!keys.includes(use.key)) keys.push(use.key);
      const n = keys.indexOf(use.key);
      this.role.addToPrincipalPolicy(keyStatement(`UseKey${n === 0 ? '' : n + 1}Via${use.label}`, this, use.key, use.actions, [use.service]));
    }

    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy !== undefined) {
      acknowledge(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        'Only dynamodb:ListStreams is granted on "*": it takes no stream or table ARN (no resource-level permissions in the Service Authorization Reference, see aws/aws-cdk#10631), is part of the permission set Lambda documents for DynamoDB stream sources, and returns stream ARNs only, no data.',
      );
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.onFailureBucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        's3:PutObject on the objects of the on-failure bucket only: Lambda names each discarded-batch object itself (aws/lambda/<mapping>/<shard>/<date>/...), and the function writes its claim-checked quarantine messages under quarantine/, so no narrower object ARN exists. No read or delete is granted.',
      );
    }
  }

  private createAlarmTopic(props: HypervisorNotifierProps): sns.ITopic | undefined {
    let topic = props.alarmTopic;
    if (topic === undefined && props.alarmEmail !== undefined) {
      // A key of its own: CloudWatch must be able to use it to publish alarms to the encrypted
      // topic, and no other data of the stack should be usable by that service principal.
      const topicKey = new kms.Key(this, 'AlarmTopicKey', {
        description: 'Compute node notifications: alarm topic',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      const created = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'Compute node notifications alarms',
        masterKey: topicKey,
        enforceSSL: true,
      });
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsOfThisAccount',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [created.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
      topic = created;
    }
    if (topic !== undefined && props.alarmEmail !== undefined) {
      const subscription = topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      acknowledge(
        subscription,
        'Serverless-SNSRedrivePolicy',
        'E-mail subscription for alarm notifications: an undelivered e-mail leaves the alarm in ALARM state, visible on the dashboard and in CloudWatch; a DLQ of alarm e-mails would have no reader.',
      );
    }
    return topic;
  }
}

/** Throws if the existing table's stream is known not to carry both images. */
/** The notifier's timeout, refused under MIN_FUNCTION_TIMEOUT_SECONDS (a token passes: it is Lambda's to check). */
function checkTimeout(timeout: Duration): Duration {
  if (!timeout.isUnresolved() && timeout.toMilliseconds() < MIN_FUNCTION_TIMEOUT_SECONDS * 1_000) {
    throw new HypervisorNotifierConfigError(
      `timeout: ${timeout.toMilliseconds() / 1_000} s is under the ${MIN_FUNCTION_TIMEOUT_SECONDS} s minimum: the notifier keeps back max(1 s, 20 %) of an invocation to answer Lambda, so it would publish nothing`,
    );
  }
  return timeout;
}

function checkExistingTable(table: dynamodb.ITable, declared: dynamodb.StreamViewType | undefined): void {
  const known = declared ?? streamViewTypeOf(table);
  if (known !== undefined && known !== COMPUTE_NODE_TABLE.streamViewType) {
    throw new HypervisorNotifierConfigError(
      `the stream of table ${table.node.path} has view type ${known}, but the notifier needs ${COMPUTE_NODE_TABLE.streamViewType} (it diffs the old and new images of each change); change the table's stream view type`,
    );
  }
}

/** The stream view type of a `Table` or `TableV2` defined in this app, when it is a literal. */
function streamViewTypeOf(table: dynamodb.ITable): string | undefined {
  const child = table.node.defaultChild;
  let spec: unknown;
  if (child instanceof dynamodb.CfnTable) spec = child.streamSpecification;
  else if (child instanceof dynamodb.CfnGlobalTable) spec = child.streamSpecification;
  else return undefined;
  if (spec === undefined) return 'NONE';
  if (Token.isUnresolved(spec)) return undefined;
  const viewType = (spec as { streamViewType?: unknown }).streamViewType;
  return typeof viewType === 'string' && !Token.isUnresolved(viewType) ? viewType : undefined;
}

/** Runs the function's own `loadConfig` on the environment about to be set, so a bad value fails synth with the function's message. */
function validateEnvironment(environment: Record<string, string>): NotifierConfig {
  // Deploy-time values (tokens) are replaced by well-formed placeholders: they are not
  // knowable now, and CloudFormation supplies valid ones.
  const placeholders: Record<string, string> = {
    [ENV.eventBusName]: 'placeholder-bus',
    [ENV.quarantineQueueUrl]: 'https://sqs.placeholder.amazonaws.com/000000000000/placeholder',
  };
  const probe = Object.fromEntries(
    Object.entries(environment).map(([k, v]) => [k, Token.isUnresolved(v) ? (placeholders[k] ?? 'placeholder') : v]),
  );
  // Throws the function's own ConfigurationError, message unchanged. Lambda sets AWS_REGION
  // (the writer region's default) at run time: a placeholder stands for it here.
  const config = loadConfig({ AWS_REGION: 'placeholder-region', ...probe });
  return {
    ...config,
    eventBusName: environment[ENV.eventBusName] ?? config.eventBusName,
    quarantineQueueUrl: environment[ENV.quarantineQueueUrl] ?? config.quarantineQueueUrl,
  };
}

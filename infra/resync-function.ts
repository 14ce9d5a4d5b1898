/**
 * The resync function: operators invoke it on demand to refresh every live node through the
 * stream (see functions/resync/resync-function.ts for the invocation loop, resync.ts for the
 * run protocol). With it, the small resync state table that holds the run lease (one run at a
 * time per compute node table; this replaces a reserved concurrency of 1, which Lambda refuses
 * on accounts with less than 100 unreserved executions to spare).
 *
 * Its role may exactly: Scan the compute node table and UpdateItem on it restricted to the
 * marker (and the key and `deleted`, which its condition reads), use the table's key through
 * DynamoDB, read and write the lease table, PutEvents the run's control events on the bus,
 * write its logs.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../functions/notifier/config.js';
import { RESYNC_MARKER_ATTRIBUTE, SOFT_DELETE_ATTRIBUTE } from '../functions/notifier/contract/index.js';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_SEGMENT_CONCURRENCY,
  DEFAULT_TOTAL_SEGMENTS,
  DEFAULT_WRITES_PER_SECOND,
  RESYNC_ENV,
  loadResyncConfig,
} from '../functions/resync/config.js';
import { RESYNC_STATE_TABLE } from '../functions/resync/state-table.js';
import { BundledFunction, PROJECT_ROOT } from './bundled-function.js';
import { acknowledge, keyStatement } from './secure-resources.js';
import { COMPUTE_NODE_TABLE } from '../functions/compute-node-table-definition.js';

export const RESYNC_ENTRY = path.join(PROJECT_ROOT, 'functions', 'resync', 'handler.ts');

export interface ResyncFunctionProps {
  readonly table: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  /** The notifications' `source`: the run's control events carry it too. */
  readonly eventSource: string;
  /** Key of the resync state table (the construct's key). */
  readonly encryptionKey: kms.IKey;
  /** @default 8 */
  readonly totalSegments?: number;
  /** Marker writes per second. @default 100 */
  readonly writesPerSecond?: number;
  /** Seconds a run's lease lasts without renewal. @default 600 */
  readonly leaseSeconds?: number;
  /** @default Duration.minutes(15) (Lambda's maximum: fewer invocations per run) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RESYNC_ENTRY */
  readonly entry?: string;
  /** Source-mapped stack traces (infra/bundling-options.ts: costs cold-start time). @default false */
  readonly sourceMaps?: boolean;
}

export class ResyncFunction extends Construct {
  readonly bundled: BundledFunction;
  /** Holds the run lease (one item per compute node table); nothing to keep, so it is destroyed with the stack. */
  readonly stateTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ResyncFunctionProps) {
    super(scope, id);
    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: RESYNC_STATE_TABLE.partitionKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(this.stateTable, 'AwsSolutions-DDB3', 'Holds only the resync run lease (one short-lived item); nothing to recover.');

    const environment: Record<string, string> = {
      [RESYNC_ENV.tableName]: props.table.tableName,
      [RESYNC_ENV.stateTableName]: this.stateTable.tableName,
      [ENV.eventBusName]: props.eventBus.eventBusArn,
      [ENV.eventSource]: props.eventSource,
      [RESYNC_ENV.totalSegments]: String(props.totalSegments ?? DEFAULT_TOTAL_SEGMENTS),
      [RESYNC_ENV.writesPerSecond]: String(props.writesPerSecond ?? DEFAULT_WRITES_PER_SECOND),
      [RESYNC_ENV.pageSize]: String(DEFAULT_PAGE_SIZE),
      [RESYNC_ENV.segmentConcurrency]: String(DEFAULT_SEGMENT_CONCURRENCY),
      [RESYNC_ENV.leaseSeconds]: String(props.leaseSeconds ?? DEFAULT_LEASE_SECONDS),
    };
    // Fail synth with the function's own message for a value it would refuse.
    loadResyncConfig(Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, Token.isUnresolved(v) ? 'placeholder' : v])));
    this.bundled = new BundledFunction(this, 'Resync', {
      entry: props.entry ?? RESYNC_ENTRY,
      description: 'Resync: refreshes every live compute node through the stream (marker writes); invoke with {} then with the returned continuation',
      roleDescription: 'Resync: scan the compute node table, write its resync marker, hold the run lease, put the run events',
      environment,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(15),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      sourceMaps: props.sourceMaps === true,
    });
    const b = this.bundled;
    b.allow('ScanComputeNodeTable', ['dynamodb:Scan'], [props.table.tableArn]);
    // Fine-grained access: the marker write may name only the key, the marker and `deleted`,
    // and may not return other attributes ("Using IAM policy conditions for fine-grained access
    // control", dynamodb:Attributes and dynamodb:ReturnValues,
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html;
    // example: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_dynamodb_attributes.html;
    // the knowledge-center page "dynamodb-table-restrict-attributes" for UpdateItem's ReturnValues).
    // `deleted` is listed because the write's condition reads it; the pages do not say whether
    // attributes named only in a ConditionExpression count, and listing it at worst also allows
    // writing `deleted`, never a payload field.
    b.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteResyncMarker',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [COMPUTE_NODE_TABLE.partitionKey.name, RESYNC_MARKER_ATTRIBUTE, SOFT_DELETE_ATTRIBUTE] },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] },
        },
      }),
    );
    b.allow('HoldRunLease', ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [this.stateTable.tableArn]);
    b.allow('PutRunEvents', ['events:PutEvents'], [props.eventBus.eventBusArn]);
    // Keys only through DynamoDB (kms:ViaService); one statement per key, however many tables use it.
    const keyActions = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];
    const tableKey = props.table.encryptionKey;
    if (tableKey !== undefined && tableKey !== props.encryptionKey) b.role.addToPrincipalPolicy(keyStatement('UseComputeNodeTableKey', this, tableKey, keyActions, ['dynamodb']));
    b.role.addToPrincipalPolicy(keyStatement(tableKey === props.encryptionKey ? 'UseTableKeys' : 'UseStateTableKey', this, props.encryptionKey, keyActions, ['dynamodb']));

    acknowledge(
      b.function,
      'Serverless-LambdaDLQ',
      'Invoked synchronously by an operator (aws lambda invoke), who gets the error and the last continuation token back and invokes again; there is no asynchronous invocation whose event a DLQ could keep.',
    );
    acknowledge(
      b.function,
      'Serverless-LambdaTracing',
      'The function makes only Scan, UpdateItem and PutEvents calls; its progress and failures are in its answer and its structured logs. X-Ray would add a Resource:* grant.',
    );
  }

  get functionName(): string {
    return this.bundled.function.functionName;
  }
}

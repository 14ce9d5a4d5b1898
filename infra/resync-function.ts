/**
 * The resync function: operators invoke it on demand to publish the current state of every
 * live node (see functions/resync/resync-function.ts for the invocation loop). Its role may
 * exactly: Scan the compute node table (and decrypt with its key), PutEvents on the bus, write
 * its logs. Reserved concurrency 1: two resyncs at once would double the PutEvents rate the
 * token bucket allows.
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../functions/notifier/config.js';
import { DEFAULT_PAGE_SIZE, DEFAULT_PUT_EVENTS_PER_SECOND, DEFAULT_SEGMENT_CONCURRENCY, DEFAULT_TOTAL_SEGMENTS, RESYNC_ENV, loadResyncConfig } from '../functions/resync/config.js';
import { BundledFunction, PROJECT_ROOT } from './bundled-function.js';
import { acknowledge } from './secure-resources.js';
import { Token } from 'aws-cdk-lib';

export const RESYNC_ENTRY = path.join(PROJECT_ROOT, 'functions', 'resync', 'handler.ts');

export interface ResyncFunctionProps {
  readonly table: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  readonly eventSource: string;
  readonly publisherHostFallback: string;
  /** @default 8 */
  readonly totalSegments?: number;
  /** PutEvents requests per second. @default 50 */
  readonly putEventsPerSecond?: number;
  /** @default Duration.minutes(15) (Lambda's maximum: fewer invocations per resync) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RESYNC_ENTRY */
  readonly entry?: string;
}

export class ResyncFunction extends Construct {
  readonly bundled: BundledFunction;

  constructor(scope: Construct, id: string, props: ResyncFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      [RESYNC_ENV.tableName]: props.table.tableName,
      [ENV.eventBusName]: props.eventBus.eventBusArn,
      [ENV.eventSource]: props.eventSource,
      [ENV.publisherHostFallback]: props.publisherHostFallback,
      [RESYNC_ENV.totalSegments]: String(props.totalSegments ?? DEFAULT_TOTAL_SEGMENTS),
      [RESYNC_ENV.putEventsPerSecond]: String(props.putEventsPerSecond ?? DEFAULT_PUT_EVENTS_PER_SECOND),
      [RESYNC_ENV.pageSize]: String(DEFAULT_PAGE_SIZE),
      [RESYNC_ENV.segmentConcurrency]: String(DEFAULT_SEGMENT_CONCURRENCY),
    };
    // Fail synth with the function's own message for a value it would refuse.
    loadResyncConfig(Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, Token.isUnresolved(v) ? 'placeholder' : v])));
    this.bundled = new BundledFunction(this, 'Resync', {
      entry: props.entry ?? RESYNC_ENTRY,
      description: 'Resync: publishes the current state of every live compute node (origin resync); invoke with {} then with the returned continuation',
      roleDescription: 'Resync: scan the compute node table, publish notifications',
      environment,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(15),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      reservedConcurrentExecutions: 1,
    });
    const b = this.bundled;
    b.allow('ScanComputeNodeTable', ['dynamodb:Scan'], [props.table.tableArn]);
    b.allow('PublishNotifications', ['events:PutEvents'], [props.eventBus.eventBusArn]);
    if (props.table.encryptionKey !== undefined) b.allow('DecryptComputeNodeTable', ['kms:Decrypt'], [props.table.encryptionKey.keyArn]);

    acknowledge(
      b.function,
      'Serverless-LambdaDLQ',
      'Invoked synchronously by an operator (aws lambda invoke), who gets the error and the last continuation token back and invokes again; there is no asynchronous invocation whose event a DLQ could keep.',
    );
    acknowledge(
      b.function,
      'Serverless-LambdaTracing',
      'The function makes only Scan and PutEvents calls; its progress and failures are in its answer and its structured logs. X-Ray would add a Resource:* grant.',
    );
  }

  get functionName(): string {
    return this.bundled.function.functionName;
  }
}

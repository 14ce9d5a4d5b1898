/**
 * The bundled stack as `cdk synth` builds it from cdk.json (bundling skipped): table, function,
 * mapping, permissions, encryption, retention, routes, schemas, alarms, cdk-nag.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { detailJsonSchemas, resyncRunJsonSchema } from '../../functions/notifier/contract/index.js';
import { METRIC, METRICS_NAMESPACE } from '../../functions/notifier/metric-names.js';
import type { BuiltApp } from '../../infra/build-app.js';
import { indexerRoutePattern } from '../../infra/indexer-route-pattern.js';
import { buildTestApp, logicalIds, NOTIFIER_ONLY, onlyLogicalId } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

let built: BuiltApp;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  // The notifier core; the resync function and the reference indexer: consumers.test.ts.
  built = buildTestApp(NOTIFIER_ONLY);
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** A `kms:ViaService` condition for a service of the stack's region, as the template renders it. */
const viaService = (service: string) => ({
  StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
});

describe('compute node table', () => {
  it('is keyed by uuid (string), on demand, with a NEW_AND_OLD_IMAGES stream, PITR, TTL expires_at', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'uuid', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'uuid', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      DeletionProtectionEnabled: false, // on with tableDeletionProtection (table-deletion-protection.test.ts)
    });
  });

  it('is encrypted with the stack\'s customer-managed key, which rotates', () => {
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId, 'Arn') },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('is retained (except when the first create fails), and so is the key its data and backups need', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
  });
});

describe('notifier function', () => {
  it('runs on nodejs24.x, arm64, ESM bundle handler, with a timeout and memory set', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 512,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
  });

  it('gets its configuration from the environment, with the names the function reads', () => {
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    const queueIds = logicalIds(template, 'AWS::SQS::Queue').filter((id) => id.includes('Quarantine'));
    expect(queueIds).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          EVENT_BUS_NAME: getAtt(busId, 'Arn'),
          EVENT_SOURCE: 'openstack.nova',
          WATCHED_FIELDS: 'vcpus,memory_mb,local_gb,vcpus_used,local_gb_used,hypervisor_hostname,disk_available_least,running_vms,current_workload',
          PUBLISHER_HOST_FALLBACK: 'hypervisor-notifier',
          QUARANTINE_QUEUE_URL: { Ref: queueIds[0] },
          PUT_EVENTS_CONCURRENCY: '4',
          POWERTOOLS_SERVICE_NAME: 'hypervisor-notifier',
          POWERTOOLS_METRICS_NAMESPACE: 'HypervisorNotifications',
        },
      },
    });
  });

  it('logs to its own log group with a retention', () => {
    const logGroupId = onlyLogicalId(template, 'AWS::Logs::LogGroup');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroupId }, LogFormat: 'JSON' } });
  });
});

describe('event source mapping', () => {
  it('reads the table stream from TRIM_HORIZON with bisect, bounded retries and age, batch item failures', () => {
    const tableId = onlyLogicalId(template, 'AWS::DynamoDB::Table');
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(tableId, 'StreamArn'),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 20,
      MaximumRecordAgeInSeconds: 21600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('sends discarded batches (full records) to the S3 on-failure bucket', () => {
    const bucketId = onlyLogicalId(template, 'AWS::S3::Bucket');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: getAtt(bucketId, 'Arn') } },
    });
  });

  it('is created after the role policy that lets Lambda read the stream and write the bucket', () => {
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping')[0]!;
    const policyId = onlyLogicalId(template, 'AWS::IAM::Policy');
    expect((mapping as unknown as { DependsOn?: string[] }).DependsOn ?? []).toContain(policyId);
  });

  it('follows the batch settings of the context', () => {
    const other = Template.fromStack(
      buildTestApp({ ...NOTIFIER_ONLY, stackName: 'Tuned', batchSize: '250', maxBatchingWindowSeconds: 5, parallelizationFactor: 3, retryAttempts: 7, maxRecordAgeSeconds: 3600 }).stack,
    );
    other.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 5,
      ParallelizationFactor: 3,
      MaximumRetryAttempts: 7,
      MaximumRecordAgeInSeconds: 3600,
    });
  });
});

describe('function role', () => {
  it('is allowed exactly: its logs, this stream, ListStreams, this bus, the quarantine queue, the bucket, the key', () => {
    const tableId = onlyLogicalId(template, 'AWS::DynamoDB::Table');
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    const bucketId = onlyLogicalId(template, 'AWS::S3::Bucket');
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    const logGroupId = onlyLogicalId(template, 'AWS::Logs::LogGroup');
    const quarantineId = logicalIds(template, 'AWS::SQS::Queue').find((id) => id.includes('Quarantine'))!;
    const [, policy] = ofType('AWS::IAM::Policy')[0]!;
    const statements = (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).map(({ Sid: _sid, ...s }) => s);
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logGroupId, 'Arn') },
      {
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Resource: getAtt(tableId, 'StreamArn'),
      },
      { Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: getAtt(busId, 'Arn') },
      { Effect: 'Allow', Action: 'events:DescribeEventBus', Resource: getAtt(busId, 'Arn') },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(quarantineId, 'Arn') },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [getAtt(bucketId, 'Arn'), '/*']] } },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: getAtt(bucketId, 'Arn') },
      // The one key, each use only through the service that makes it.
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAtt(keyId, 'Arn'), Condition: viaService('dynamodb') },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId, 'Arn'), Condition: viaService('sqs') },
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: getAtt(keyId, 'Arn'), Condition: viaService('s3') },
    ]);
  });

  it('has no managed policies and is the only principal policy in the stack', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::IAM::Policy', 1);
    const [, role] = ofType('AWS::IAM::Role')[0]!;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('has "*" only for dynamodb:ListStreams', () => {
    const [, policy] = ofType('AWS::IAM::Policy')[0]!;
    const star = (policy.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>).filter((s) => s.Resource === '*');
    expect(star.map((s) => s.Action)).toEqual(['dynamodb:ListStreams']);
  });
});

describe('quarantine queue and on-failure bucket', () => {
  it('quarantine: KMS-encrypted with the stack key, 14 days, 1 MiB messages, TLS only, retained', () => {
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    const [id, queue] = ofType('AWS::SQS::Queue').find(([qid]) => qid.includes('Quarantine'))!;
    // 1 MiB: the notifier's quarantine sends messages up to that size (whole stream records).
    expect(queue.Properties).toMatchObject({ KmsMasterKeyId: getAtt(keyId, 'Arn'), MessageRetentionPeriod: 14 * 24 * 3600, MaximumMessageSize: 1024 * 1024 });
    expect(queue.DeletionPolicy).toBe('RetainExceptOnCreate');
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('bucket: SSE-KMS with the stack key, public access blocked, TLS only, expiring, request metrics, retained', () => {
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    const bucketId = onlyLogicalId(template, 'AWS::S3::Bucket');
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(keyId, 'Arn') } },
          ],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
        MetricsConfigurations: [{ Id: 'OnFailureRecords' }],
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('event bus, archive and schema registry', () => {
  it('archives the notifications of the bus with a retention', () => {
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: getAtt(busId, 'Arn'),
      EventPattern: { source: ['openstack.nova'] },
      RetentionDays: 90,
    });
  });

  it('holds one JSONSchemaDraft4 schema per detail type and payload version (change block included) and the resync run event, equal to the zod-generated ones', () => {
    const registryId = onlyLogicalId(template, 'AWS::EventSchemas::Registry');
    const expected = detailJsonSchemas();
    expect(expected.map((s) => s.detailType).sort()).toEqual(['compute_node.create', 'compute_node.delete', 'compute_node.update']);
    const schemas = ofType('AWS::EventSchemas::Schema').map(([, r]) => r.Properties);
    // The Nova detail types, the resync run event and the heartbeat (test/infra/heartbeat.test.ts).
    expect(schemas).toHaveLength(expected.length + 2);
    for (const s of expected) {
      const found = schemas.filter((p) => p.SchemaName === s.schemaName);
      expect(found, s.schemaName).toHaveLength(1);
      expect(found[0]).toMatchObject({ Type: 'JSONSchemaDraft4', RegistryName: getAtt(registryId, 'RegistryName') });
      expect(found[0]!.Content).toBe(JSON.stringify(s.jsonSchema));
      const content = JSON.parse(found[0]!.Content as string);
      expect(content.properties.event_type).toBeDefined();
      expect(content.properties.change.required).toEqual(['sequence_number', 'epoch', 'changed_fields', 'origin', 'cause', 'resync_run']);
    }
    const control = resyncRunJsonSchema();
    const found = schemas.filter((p) => p.SchemaName === 'hypervisor_notifier.resync_run@1');
    expect(found).toHaveLength(1);
    expect(found[0]!.Content).toBe(JSON.stringify(control.jsonSchema));
  });
});

describe('example indexer route', () => {
  it("routes compute_node.update events whose running_vms changed, with the builder's pattern", () => {
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    const [, rule] = ofType('AWS::Events::Rule')[0]!;
    const literal = {
      source: ['openstack.nova'],
      'detail-type': ['compute_node.update'],
      detail: { change: { changed_fields: ['running_vms'] } },
    };
    expect(indexerRoutePattern({ source: 'openstack.nova', changedFields: ['running_vms'] })).toEqual(literal);
    expect(rule.Properties.EventPattern).toEqual(literal);
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule.Properties.State).toBe('ENABLED');
  });

  it('delivers to an encrypted queue whose redrive goes to its own DLQ; the target has a DLQ too', () => {
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    const queues = ofType('AWS::SQS::Queue').filter(([id]) => id.includes('RouteRunningVms'));
    expect(queues).toHaveLength(3);
    for (const [, q] of queues) expect(q.Properties.KmsMasterKeyId).toEqual(getAtt(keyId, 'Arn'));
    const byRole = (part: string) => queues.find(([id]) => id.includes(part) && !(part === 'DeadLetterQueue' && id.includes('Delivery')))!;
    const [queueId, queue] = queues.find(([id]) => !id.includes('DeadLetter'))!;
    const [dlqId] = byRole('DeadLetterQueue');
    const [deliveryDlqId] = byRole('DeliveryDeadLetterQueue');
    expect(dlqId).not.toBe(deliveryDlqId);
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: getAtt(dlqId, 'Arn'), maxReceiveCount: 5 });
    const [, rule] = ofType('AWS::Events::Rule')[0]!;
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: getAtt(queueId, 'Arn'), DeadLetterConfig: { Arn: getAtt(deliveryDlqId, 'Arn') } }),
    ]);
    // Each of the three queues denies non-TLS requests.
    const tlsOnly = ofType('AWS::SQS::QueuePolicy').filter(([, p]) =>
      (p.Properties.PolicyDocument.Statement as Array<Record<string, any>>).some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
    );
    const covered = tlsOnly.flatMap(([, p]) => (p.Properties.Queues as Array<{ Ref: string }>).map((q) => q.Ref));
    for (const [id] of queues) expect(covered).toContain(id);
  });

  it('lets EventBridge send to the delivery DLQ (this rule only) and use the key (as AWS documents for SQS targets)', () => {
    const [ruleId] = ofType('AWS::Events::Rule')[0]!;
    const [deliveryDlqId] = ofType('AWS::SQS::Queue').find(([id]) => id.includes('DeliveryDeadLetter'))!;
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: deliveryDlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt(ruleId, 'Arn') } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: '*',
          }),
        ]),
      },
    });
  });
});

describe('alarms and dashboard', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const byMetric = (namespace: string, metricName: string) => alarms().filter((a) => a.Namespace === namespace && a.MetricName === metricName);
  /** The queues whose depth (visible + in flight) an alarm watches. */
  const queueDepthAlarms = () =>
    alarms().flatMap((a) => {
      const stats = ((a.Metrics ?? []) as Array<any>).map((m) => m.MetricStat?.Metric).filter((m) => m?.Namespace === 'AWS/SQS');
      const visible = stats.find((m) => m.MetricName === 'ApproximateNumberOfMessagesVisible');
      return visible !== undefined && stats.some((m) => m.MetricName === 'ApproximateNumberOfMessagesNotVisible') ? [visible.Dimensions[0].Value] : [];
    });

  it('alarm on iterator age, function errors, quarantine depth, on-failure writes and delivery failures', () => {
    const fnId = onlyLogicalId(template, 'AWS::Lambda::Function');
    const bucketId = onlyLogicalId(template, 'AWS::S3::Bucket');
    const quarantineId = logicalIds(template, 'AWS::SQS::Queue').find((id) => id.includes('Quarantine'))!;
    const iteratorAge = byMetric('AWS/Lambda', 'IteratorAge');
    expect(iteratorAge).toHaveLength(1);
    expect(iteratorAge[0]).toMatchObject({ Statistic: 'Maximum', Threshold: 300_000, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }] });
    expect(byMetric('AWS/Lambda', 'Errors')[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(byMetric('AWS/Lambda', 'DestinationDeliveryFailures')).toHaveLength(1);
    expect(queueDepthAlarms()).toContainEqual(getAtt(quarantineId, 'QueueName'));
    expect(byMetric('AWS/S3', 'PutRequests')[0]!.Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'BucketName', Value: { Ref: bucketId } }, { Name: 'FilterId', Value: 'OnFailureRecords' }]),
    );
  });

  it("alarm on the function's PutEvents failures in its own namespace and service dimension", () => {
    const a = byMetric(METRICS_NAMESPACE, METRIC.putEventsFailures);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ Namespace: 'HypervisorNotifications', MetricName: 'PutEventsFailures', Dimensions: [{ Name: 'service', Value: 'hypervisor-notifier' }], Statistic: 'Sum' });
  });

  it('alarm on failed deliveries of the route (FailedInvocations on the custom bus) and on both DLQs', () => {
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    const [ruleId] = ofType('AWS::Events::Rule')[0]!;
    const failed = alarms().filter((a) => (a.Metrics as Array<any> | undefined)?.some((m) => m.MetricStat?.Metric?.MetricName === 'FailedInvocations'));
    expect(failed).toHaveLength(1);
    const metric = (failed[0]!.Metrics as Array<any>).find((m) => m.MetricStat?.Metric?.MetricName === 'FailedInvocations').MetricStat.Metric;
    // A literal: the Ref of a custom-bus rule is "bus|rule", not the RuleName dimension.
    const [, rule] = ofType('AWS::Events::Rule')[0]!;
    expect(rule.Properties.Name).toMatch(/^HypervisorNotifications-Notifier-RouteRunningVms-[0-9A-F]{8}$/);
    expect(metric.Dimensions).toEqual([
      { Name: 'EventBusName', Value: { Ref: busId } },
      { Name: 'RuleName', Value: rule.Properties.Name },
    ]);
    expect(JSON.stringify(metric.Dimensions)).not.toContain(ruleId);
    const dlqIds = logicalIds(template, 'AWS::SQS::Queue').filter((id) => id.includes('RouteRunningVms') && id.includes('DeadLetter'));
    const watched = queueDepthAlarms();
    for (const id of dlqIds) expect(watched).toContainEqual(getAtt(id, 'QueueName'));
  });

  it('has no alarm actions without a topic or e-mail, and a dashboard', () => {
    for (const a of alarms()) expect(a.AlarmActions).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions and Serverless report no unacknowledged finding', () => {
    expect(built.nagPacks.map((p) => p.name)).toEqual(['AwsSolutions', 'Serverless']);
    for (const pack of built.nagPacks) {
      const report = pack.validateScope(built.app);
      expect(report.violations, pack.name).toEqual([]);
    }
  });

  it('synthesizes through the app with the packs registered as validation plugins', () => {
    expect(() => built.app.synth()).not.toThrow();
  });
});

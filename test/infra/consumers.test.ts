/**
 * The consumer side of the bundled stack (cdk.json's context, bundling skipped): the resync
 * function and the reference indexer, their roles scoped to exact resources, the indexer's
 * route and queue subscription, and cdk-nag over the whole stack.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import type { BuiltApp } from '../../infra/build-app.js';
import { indexerRoutePattern } from '../../infra/indexer-route-pattern.js';
import { ALL_INDEXES } from '../../functions/indexer/indexer-table.js';
import { buildTestApp, onlyLogicalId } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

let built: BuiltApp;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  built = buildTestApp();
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const byPath = (type: string, part: string) => {
  const found = ofType(type).filter(([id]) => id.includes(part));
  if (found.length !== 1) throw new Error(`expected one ${type} with ${part} in its id, found ${found.map(([id]) => id).join(', ')}`);
  return found[0]!;
};
const withoutSid = (statements: Array<Record<string, unknown>>) => statements.map(({ Sid: _sid, ...s }) => s);
/** Every statement of the policies attached to a function's role, and the role itself. */
function roleOf(functionId: string) {
  const roleId = (resources[functionId]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = ofType('AWS::IAM::Policy').filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId));
  return { roleId, role: resources[roleId]!, statements: withoutSid(policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement)) };
}

/** A `kms:ViaService` condition for a service of the stack's region, as the template renders it. */
const viaService = (service: string) => ({
  StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
});

describe('resync function', () => {
  it('is a bundled Node.js function like the notifier: nodejs24.x, arm64, ESM handler, 15 min, and no reserved concurrency', () => {
    const [, fn] = byPath('AWS::Lambda::Function', 'Resync');
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 900, MemorySize: 512 });
    // Lambda refuses a reservation that leaves < 100 unreserved executions: the run lease keeps one run at a time instead.
    expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    for (const [, f] of ofType('AWS::Lambda::Function')) expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('has a state table for the run lease: on demand, encrypted with the stack key, destroyed with the stack', () => {
    const [stateId, state] = byPath('AWS::DynamoDB::Table', 'ResyncStateTable');
    const keyId = byPath('AWS::KMS::Key', 'NotifierKey')[0];
    expect(state.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId, 'Arn') },
    });
    expect((resources[stateId] as Resource & { DeletionPolicy?: string }).DeletionPolicy).toBe('Delete');
    expect(template.toJSON().Outputs.ResyncStateTableName.Value).toEqual({ Ref: stateId });
  });

  it('is configured with the table, the lease table, the bus, the notifier\'s source, the rate and the lease', () => {
    const [, fn] = byPath('AWS::Lambda::Function', 'Resync');
    const tableId = byPath('AWS::DynamoDB::Table', 'NotifierTable')[0];
    const stateId = byPath('AWS::DynamoDB::Table', 'ResyncStateTable')[0];
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    expect(fn.Properties.Environment.Variables).toEqual({
      TABLE_NAME: { Ref: tableId },
      RESYNC_STATE_TABLE_NAME: { Ref: stateId },
      EVENT_BUS_NAME: getAtt(busId, 'Arn'),
      EVENT_SOURCE: 'openstack.nova',
      RESYNC_TOTAL_SEGMENTS: '8',
      RESYNC_WRITES_PER_SECOND: '100',
      RESYNC_PAGE_SIZE: '200',
      RESYNC_SEGMENT_CONCURRENCY: '4',
      RESYNC_LEASE_SECONDS: '600',
    });
  });

  it('may exactly: write its logs, Scan the table, UpdateItem only the marker, hold the lease, PutEvents on this bus, use the key through DynamoDB', () => {
    const [fnId] = byPath('AWS::Lambda::Function', 'Resync');
    const { role, statements } = roleOf(fnId);
    const tableId = byPath('AWS::DynamoDB::Table', 'NotifierTable')[0];
    const stateId = byPath('AWS::DynamoDB::Table', 'ResyncStateTable')[0];
    const busId = onlyLogicalId(template, 'AWS::Events::EventBus');
    const keyId = byPath('AWS::KMS::Key', 'NotifierKey')[0];
    const logGroupId = byPath('AWS::Logs::LogGroup', 'Resync')[0];
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logGroupId, 'Arn') },
      { Effect: 'Allow', Action: 'dynamodb:Scan', Resource: getAtt(tableId, 'Arn') },
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: getAtt(tableId, 'Arn'),
        Condition: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['uuid', 'resync_run', 'deleted'] },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] },
        },
      },
      { Effect: 'Allow', Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: getAtt(stateId, 'Arn') },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: getAtt(busId, 'Arn') },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId, 'Arn'), Condition: viaService('dynamodb') },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('on an imported table and key: Scan and the marker write on that table, that key through DynamoDB, the stack key for the lease table', () => {
    const other = buildTestApp({
      stackName: 'ResyncOnExisting',
      existingTableName: 'compute-nodes',
      existingTableStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/compute-nodes/stream/2026-01-01T00:00:00.000',
      existingTableKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    const t = Template.fromStack(other.stack);
    const res = t.toJSON().Resources as Record<string, Resource>;
    const [fnId] = Object.entries(res).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.includes('Resync'))!;
    const roleId = res[fnId]!.Properties.Role['Fn::GetAtt'][0];
    const statements = withoutSid(
      Object.values(res)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement),
    );
    expect(JSON.stringify(statements.find((s) => s.Action === 'dynamodb:Scan')!.Resource)).toContain(':table/compute-nodes');
    expect(JSON.stringify(statements.find((s) => s.Action === 'dynamodb:UpdateItem')!.Resource)).toContain(':table/compute-nodes');
    const keyResources = statements.filter((s) => JSON.stringify(s.Action).includes('kms:')).map((s) => JSON.stringify(s.Resource));
    expect(keyResources).toHaveLength(2);
    expect(keyResources).toContain(JSON.stringify('arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'));
  });
});

describe('reference indexer', () => {
  it('has its route: every notification of the source and the resync runs\' control events, delivered to its queue', () => {
    const [ruleId, rule] = byPath('AWS::Events::Rule', 'RouteReferenceIndexer');
    expect(rule.Properties.EventPattern).toEqual(indexerRoutePattern({ source: 'openstack.nova', resyncRunEvents: true, heartbeats: true }));
    expect(rule.Properties.EventPattern['detail-type']).toContain('hypervisor_notifier.resync_run');
    const queueId = ofType('AWS::SQS::Queue').find(([id]) => id.includes('RouteReferenceIndexerQueue'))![0];
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: getAtt(queueId, 'Arn') })]);
    expect(ruleId).toBeDefined();
    // Six times the function's timeout: a message is not redelivered while a batch still runs.
    expect(resources[queueId]!.Properties.VisibilityTimeout).toBe(180);
    // A long resync sweep goes on in continuation messages, so its pieces use no receives of a message.
    expect(resources[queueId]!.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
  });

  it('consumes that queue with an SQS event source reporting batch item failures', () => {
    const [fnId, fn] = byPath('AWS::Lambda::Function', 'ReferenceIndexer');
    const queueId = ofType('AWS::SQS::Queue').find(([id]) => id.includes('RouteReferenceIndexerQueue'))![0];
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === fnId);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      EventSourceArn: getAtt(queueId, 'Arn'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
    });
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 30 });
    const tableId = byPath('AWS::DynamoDB::Table', 'ReferenceIndexerTable')[0];
    expect(fn.Properties.Environment.Variables.INDEXER_TABLE_NAME).toEqual({ Ref: tableId });
    // Its own queue, for the continuation of a sweep that pauses before the deadline.
    expect(fn.Properties.Environment.Variables.INDEXER_QUEUE_URL).toEqual({ Ref: queueId });
    expect(mappings[0]![1].DependsOn).toEqual(expect.arrayContaining([expect.stringContaining('ReferenceIndexerRoleDefaultPolicy')]));
  });

  it('keeps its read model in a table with the planner\'s indexes, encrypted with the stack key, with PITR', () => {
    const [, table] = byPath('AWS::DynamoDB::Table', 'ReferenceIndexerTable');
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'uuid', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId, 'Arn') },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // Resync runs' bookkeeping items expire.
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
    const gsis = table.Properties.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: Array<{ AttributeName: string }> }>;
    expect(gsis.map((g) => [g.IndexName, g.KeySchema.map((k) => k.AttributeName)])).toEqual(ALL_INDEXES.map((i) => [i.name, [i.partitionKey, i.sortKey]]));
  });

  it('may exactly: write its logs, consume its queue and send to it (with the key), write, read and scan its table (with the key)', () => {
    const [fnId] = byPath('AWS::Lambda::Function', 'ReferenceIndexer');
    const { role, statements } = roleOf(fnId);
    const queueId = ofType('AWS::SQS::Queue').find(([id]) => id.includes('RouteReferenceIndexerQueue'))![0];
    const tableId = byPath('AWS::DynamoDB::Table', 'ReferenceIndexerTable')[0];
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    const logGroupId = byPath('AWS::Logs::LogGroup', 'ReferenceIndexer')[0];
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logGroupId, 'Arn') },
      { Effect: 'Allow', Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], Resource: getAtt(queueId, 'Arn') },
      // A paused sweep's continuation.
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(queueId, 'Arn') },
      // Notifications and sweep tombstones, resync runs' progress (transactions included), the sweeps' scan.
      {
        Effect: 'Allow',
        Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        Resource: getAtt(tableId, 'Arn'),
      },
      // The same key, each use only through its service: no statement repeats another.
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId, 'Arn'), Condition: viaService('sqs') },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: getAtt(keyId, 'Arn'),
        Condition: viaService('dynamodb'),
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('keeps the example route next to its own', () => {
    const names = ofType('AWS::Events::Rule').map(([id]) => id);
    expect(names.some((id) => id.includes('RouteRunningVms'))).toBe(true);
    expect(names.some((id) => id.includes('RouteReferenceIndexer'))).toBe(true);
  });
});

describe('cdk-nag over the whole stack', () => {
  it('AwsSolutions and Serverless report no unacknowledged finding', () => {
    for (const pack of built.nagPacks) expect(pack.validateScope(built.app).violations, pack.name).toEqual([]);
  });
});

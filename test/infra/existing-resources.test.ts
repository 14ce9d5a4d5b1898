/**
 * The bundled app on an existing table and bus, with an alarm topic or e-mail; and the
 * synth-time failures (wrong stream view type, bad watched fields, bad context).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { BuiltApp } from '../../infra/build-app.js';
import { AppContextError } from '../../infra/context.js';
import { buildTestApp, logicalIds, NOTIFIER_ONLY, onlyLogicalId } from './helpers.js';

const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/compute-nodes/stream/2026-01-01T00:00:00.000';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1111aaaa-2222-bbbb-3333-cccc4444dddd';
const BUS_ARN = 'arn:aws:events:eu-west-1:123456789012:event-bus/nova-notifications';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';

describe('existing table, existing bus (by ARN), existing alarm topic', () => {
  let built: BuiltApp;
  let template: Template;
  beforeAll(() => {
    built = buildTestApp({
      ...NOTIFIER_ONLY,
      stackName: 'OnExisting',
      existingTableName: 'compute-nodes',
      existingTableStreamArn: STREAM_ARN,
      existingTableStreamViewType: 'NEW_AND_OLD_IMAGES',
      existingTableKmsKeyArn: KEY_ARN,
      existingEventBus: BUS_ARN,
      alarmTopicArn: TOPIC_ARN,
    });
    template = Template.fromStack(built.stack);
  });

  it('creates no table and no bus, and maps the given stream', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: STREAM_ARN, StartingPosition: 'TRIM_HORIZON' });
  });

  it("lets the role read that stream, decrypt with the table's key, and put events on that bus", () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))[0]!.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Resource: STREAM_ARN }),
        expect.objectContaining({ Action: 'kms:Decrypt', Resource: KEY_ARN }),
        expect.objectContaining({ Action: 'events:PutEvents', Resource: BUS_ARN }),
      ]),
    );
    // The table's key is only decrypted; the stack's own key still encrypts queue and bucket.
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }));
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: BUS_ARN }) } });
  });

  it('archives the existing bus and puts the route rule on it (FailedInvocations with its name)', () => {
    template.hasResourceProperties('AWS::Events::Archive', { SourceArn: BUS_ARN });
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'nova-notifications' });
    const failed = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .flatMap((a) => (a.Properties.Metrics as Array<any> | undefined) ?? [])
      .filter((m) => m.MetricStat?.Metric?.MetricName === 'FailedInvocations');
    expect(failed).toHaveLength(1);
    expect(failed[0].MetricStat.Metric.Dimensions).toContainEqual({ Name: 'EventBusName', Value: 'nova-notifications' });
  });

  it('sends every alarm (and its recovery) to the given topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(9);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([TOPIC_ARN]);
      expect(a.Properties.OKActions).toEqual([TOPIC_ARN]);
    }
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    for (const pack of built.nagPacks) expect(pack.validateScope(built.app).violations, pack.name).toEqual([]);
  });
});

describe('alarm e-mail without a topic', () => {
  let built: BuiltApp;
  let template: Template;
  beforeAll(() => {
    built = buildTestApp({ ...NOTIFIER_ONLY, stackName: 'WithEmail', alarmEmail: 'ops@example.com', exampleRoute: 'false' });
    template = Template.fromStack(built.stack);
  });

  it('creates a KMS-encrypted, TLS-only topic with the e-mail subscribed, used by the alarms', () => {
    const topicId = onlyLogicalId(template, 'AWS::SNS::Topic');
    const keys = logicalIds(template, 'AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    const topicKeyId = keys.find((k) => k.includes('AlarmTopicKey'))!;
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [topicKeyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
    });
    for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('without the example route has no rule', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    for (const pack of built.nagPacks) expect(pack.validateScope(built.app).violations, pack.name).toEqual([]);
  });
});

describe('synth-time failures', () => {
  it('an existing table whose stream is not NEW_AND_OLD_IMAGES fails synth, saying so', () => {
    expect(() =>
      buildTestApp({ stackName: 'WrongView', existingTableName: 'compute-nodes', existingTableStreamArn: STREAM_ARN, existingTableStreamViewType: 'NEW_IMAGE' }),
    ).toThrow(/view type NEW_IMAGE, but the notifier needs NEW_AND_OLD_IMAGES/);
  });

  it('an existing table without its stream ARN is a context error', () => {
    expect(() => buildTestApp({ stackName: 'NoStream', existingTableName: 'compute-nodes' })).toThrow(AppContextError);
  });

  it('an unknown watched field fails synth naming the context key (not the function variable WATCHED_FIELDS) and the field', () => {
    expect(() => buildTestApp({ stackName: 'BadFields', watchedFields: 'running_vms,bogus_field' })).toThrow(
      /^invalid context: watchedFields: unknown field 'bogus_field' \(a watched field must be one of: id, uuid, /,
    );
  });

  it('an unknown context key and an out-of-range batch size are reported together', () => {
    let message = '';
    try {
      buildTestApp({ stackName: 'Typo', batchsize: 10, batchSize: 20000 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/unknown context key\(s\) batchsize/);
    expect(message).toMatch(/batchSize: .*10000/);
  });

  it('a log retention CloudWatch does not offer is rejected', () => {
    expect(() => buildTestApp({ stackName: 'BadRetention', logRetentionDays: 31 })).toThrow(/logRetentionDays: must be one of/);
  });

  it('values given with -c (strings) are coerced', () => {
    const { config } = buildTestApp({ stackName: 'Strings', batchSize: '42', exampleRoute: 'false', watchedFields: 'vcpus, running_vms' });
    expect(config.batchSize).toBe(42);
    expect(config.exampleRoute).toBe(false);
    expect(config.watchedFields).toEqual(['vcpus', 'running_vms']);
  });
});

describe('cdk-nag is really checking (negative control)', () => {
  it('a plain queue added to the bundled stack is reported and fails synth', () => {
    const built = buildTestApp({ ...NOTIFIER_ONLY, stackName: 'Control', exampleRoute: false });
    new sqs.Queue(built.stack, 'PlainQueue');
    const [awsSolutions, serverless] = built.nagPacks;
    expect(awsSolutions.validateScope(built.app).violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
    expect(serverless.validateScope(built.app).violations.map((v) => v.ruleName)).toContain('Serverless-SQSRedrivePolicy');
    expect(() => built.app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});

/**
 * What a first `cdk deploy` on any account needs of the synthesized template: the key policy
 * AWS documents for EventBridge → encrypted SQS, route queues open to their own rule only,
 * role key statements through their service, queue-depth alarms that hold while messages
 * wait, retained resources that a failed first create does not orphan, and alarms that say
 * when they notify nobody.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { BuiltApp } from '../../infra/build-app.js';
import { buildTestApp } from './helpers.js';

// The synthesized template is untyped CloudFormation JSON: `any` where the tests walk into it.
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: Record<string, any> };

let built: BuiltApp;
let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;

beforeAll(() => {
  // The bundled stack as cdk.json configures it (two routes: the example and the reference indexer's).
  built = buildTestApp();
  const json = Template.fromStack(built.stack).toJSON();
  resources = json.Resources as Record<string, Resource>;
  outputs = json.Outputs as Record<string, { Value: unknown }>;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const policyStatementsOf = (r: Resource, key = 'PolicyDocument'): Statement[] => r.Properties[key].Statement as Statement[];

describe('KMS key policy for EventBridge', () => {
  it('grants events.amazonaws.com exactly kms:GenerateDataKey and kms:Decrypt, unconditioned, in one statement', () => {
    const [[, key]] = ofType('AWS::KMS::Key') as [[string, Resource]];
    const forEvents = policyStatementsOf(key, 'KeyPolicy').filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
    // Two routes share the key: still one statement.
    expect(ofType('AWS::Events::Rule').length).toBeGreaterThanOrEqual(2);
    expect(forEvents).toEqual([
      { Sid: 'AllowEventBridgeToDeliverToEncryptedQueues', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' },
    ]);
  });

  it('no key policy statement anywhere lets EventBridge encrypt or re-encrypt', () => {
    for (const [, key] of ofType('AWS::KMS::Key')) {
      for (const s of policyStatementsOf(key, 'KeyPolicy').filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'))) {
        expect(actions(s).filter((a) => a.startsWith('kms:Encrypt') || a.startsWith('kms:ReEncrypt') || a.endsWith('*'))).toEqual([]);
      }
    }
  });
});

describe('route queue policies', () => {
  it('each route queue and its delivery dead-letter queue allow only sqs:SendMessage from their own rule', () => {
    const rules = ofType('AWS::Events::Rule');
    let checked = 0;
    for (const [ruleId, rule] of rules) {
      const target = (rule.Properties.Targets as Array<{ Arn: { 'Fn::GetAtt': [string, string] }; DeadLetterConfig: { Arn: { 'Fn::GetAtt': [string, string] } } }>)[0]!;
      for (const queueId of [target.Arn['Fn::GetAtt'][0], target.DeadLetterConfig.Arn['Fn::GetAtt'][0]]) {
        const policies = ofType('AWS::SQS::QueuePolicy').filter(([, p]) => (p.Properties.Queues as Array<{ Ref: string }>).some((q) => q.Ref === queueId));
        expect(policies, queueId).toHaveLength(1);
        const allows = policyStatementsOf(policies[0]![1]).filter((s) => s.Effect === 'Allow');
        expect(allows.map(({ Sid: _sid, ...s }) => s)).toEqual([
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: getAtt(queueId, 'Arn'),
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt(ruleId, 'Arn') } },
          },
        ]);
        checked++;
      }
    }
    expect(checked).toBe(2 * rules.length);
  });

  it('no queue policy rests on aws:SourceAccount', () => {
    for (const [id, p] of ofType('AWS::SQS::QueuePolicy')) expect(JSON.stringify(p.Properties), id).not.toContain('aws:SourceAccount');
  });
});

describe('role statements on keys', () => {
  const roles = () =>
    ofType('AWS::IAM::Policy').filter(([id]) => id.startsWith('NotifierRole') || id.startsWith('ReferenceIndexerRole')) as Array<[string, Resource]>;

  it('every kms statement of the notifier and the reference indexer is conditioned on kms:ViaService of a service of this region', () => {
    const found = roles().flatMap(([id, p]) => policyStatementsOf(p).filter((s) => actions(s).some((a) => a.startsWith('kms:'))).map((s) => [id, s] as const));
    expect(found.length).toBe(5);
    for (const [id, s] of found) {
      const via = s.Condition?.StringEquals?.['kms:ViaService'];
      expect(via, `${id} ${s.Sid}`).toEqual({ 'Fn::Join': ['', [expect.stringMatching(/^(dynamodb|sqs|s3)\.$/), { Ref: 'AWS::Region' }, '.amazonaws.com']] });
    }
  });

  it('no policy holds two statements granting the same actions on the same resource under the same conditions', () => {
    for (const [id, p] of roles()) {
      const keys = policyStatementsOf(p).map(({ Sid: _sid, ...s }) => JSON.stringify(s));
      expect(new Set(keys).size, id).toBe(keys.length);
      // A kms action on a key is granted through one service by one statement only.
      const grants = policyStatementsOf(p).flatMap((s) =>
        actions(s)
          .filter((a) => a.startsWith('kms:'))
          .map((a) => `${a} ${JSON.stringify(s.Resource)} ${JSON.stringify(s.Condition)}`),
      );
      expect(new Set(grants).size, id).toBe(grants.length);
    }
  });
});

describe('queue-depth alarms', () => {
  // The notifier's alarms (NotifierAlarms); other constructs' alarms watch other things.
  const alarms = () => ofType('AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('NotifierMonitoring')).map(([id, a]) => [id, a.Properties] as const);
  const sqsMetrics = (a: Record<string, any>) => ((a.Metrics ?? []) as Array<any>).map((m) => m.MetricStat?.Metric).filter((m) => m?.Namespace === 'AWS/SQS');

  it('watch the quarantine queue and both dead-letter queues of every route: visible plus in-flight messages', () => {
    const quarantineId = ofType('AWS::SQS::Queue').find(([id]) => id.includes('Quarantine'))![0];
    const dlqIds = ofType('AWS::SQS::Queue').filter(([id]) => id.includes('DeadLetterQueue')).map(([id]) => id);
    expect(dlqIds).toHaveLength(2 * ofType('AWS::Events::Rule').length);
    const watched = alarms().flatMap(([, a]) => {
      const metrics = sqsMetrics(a);
      const queues = new Set(metrics.map((m) => JSON.stringify(m.Dimensions)));
      expect(queues.size).toBeLessThanOrEqual(1);
      return metrics.length === 0 ? [] : [{ queue: metrics[0].Dimensions[0].Value, names: metrics.map((m) => m.MetricName).sort(), a }];
    });
    for (const id of [quarantineId, ...dlqIds]) {
      const w = watched.filter((x) => JSON.stringify(x.queue) === JSON.stringify(getAtt(id, 'QueueName')));
      expect(w, id).toHaveLength(1);
      expect(w[0]!.names).toEqual(['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesVisible']);
      const expression = (w[0]!.a.Metrics as Array<any>).find((m) => m.Expression !== undefined);
      expect(expression.Expression).not.toContain('FILL');
    }
  });

  it('keep their state when SQS stops reporting an untouched queue (missing data ignored), the event-count alarms do not', () => {
    const byQueue = alarms().filter(([, a]) => sqsMetrics(a).length > 0);
    expect(byQueue.length).toBeGreaterThan(0);
    for (const [id, a] of byQueue) expect(a.TreatMissingData, id).toBe('ignore');
    // An errors or failed-deliveries metric is only emitted when something happens: no data is OK.
    for (const [id, a] of alarms().filter(([, a]) => sqsMetrics(a).length === 0)) expect(a.TreatMissingData, id).toBe('notBreaching');
  });
});

describe('retention', () => {
  it('the key, the table, the quarantine queue, the bucket and the notifier log group are RetainExceptOnCreate', () => {
    const retained = Object.entries(resources)
      .filter(([, r]) => r.DeletionPolicy === 'RetainExceptOnCreate')
      .map(([id, r]) => [r.Type, id.replace(/[0-9A-F]{8}$/, '')]);
    expect(retained.sort()).toEqual(
      [
        ['AWS::DynamoDB::Table', 'NotifierTable'],
        ['AWS::KMS::Key', 'NotifierKey'],
        ['AWS::Logs::LogGroup', 'NotifierLogGroup'],
        ['AWS::S3::Bucket', 'NotifierOnFailureBucket'],
        ['AWS::SQS::Queue', 'NotifierQuarantineQueue'],
      ].sort(),
    );
    for (const [, r] of Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'RetainExceptOnCreate')) expect(r.UpdateReplacePolicy).toBe('Retain');
  });

  it('nothing is plainly Retain (a failed first create would orphan it)', () => {
    expect(Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id)).toEqual([]);
  });
});

describe('alarms that notify nobody', () => {
  it('without alarmEmail or alarmTopicArn: a synth warning and an output say how to fix it', () => {
    Annotations.fromStack(built.stack).hasWarning('/HypervisorNotifications/Notifier', Match.stringLikeRegexp('alarms notify nobody.*-c alarmEmail=.*alarmTopicArn'));
    expect(String(outputs.AlarmNotifications!.Value)).toMatch(/notify nobody.*alarmEmail/);
    for (const [, a] of ofType('AWS::CloudWatch::Alarm')) expect(a.Properties.AlarmActions).toBeUndefined();
  });

  it('with alarmEmail: no warning, and the output names the topic the alarms send to', () => {
    const withEmail = buildTestApp({ alarmEmail: 'ops@example.com' });
    const json = Template.fromStack(withEmail.stack).toJSON();
    Annotations.fromStack(withEmail.stack).hasNoWarning('*', Match.stringLikeRegexp('notify nobody'));
    const topicId = Object.entries(json.Resources as Record<string, Resource>).find(([, r]) => r.Type === 'AWS::SNS::Topic')![0];
    expect(json.Outputs.AlarmNotifications.Value).toEqual({ Ref: topicId });
  });
});

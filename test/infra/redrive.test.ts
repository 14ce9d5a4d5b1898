/**
 * The automatic redrive in the bundled stack (bundling skipped): the S3 notification to an
 * encrypted queue S3 may write to, the function configured like the notifier, its event
 * source, its permissions, the stale-object alarm, tracing opt-in, and cdk-nag.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../functions/notifier/config.js';
import { REDRIVE_ENV } from '../../functions/redrive/config.js';
import { RESYNC_ENV } from '../../functions/resync/config.js';
import { INDEXER_ENV } from '../../functions/indexer/indexer.js';
import type { BuiltApp } from '../../infra/build-app.js';
import { buildTestApp, onlyLogicalId } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, any> };
const WITHOUT_CONSUMERS = { resyncFunction: false, referenceIndexer: false };

let built: BuiltApp;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  built = buildTestApp(WITHOUT_CONSUMERS);
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const ofType = (t: Template, type: string) => Object.entries(t.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
const functionWithEnv = (t: Template, name: string) => ofType(t, 'AWS::Lambda::Function').find(([, r]) => r.Properties.Environment?.Variables?.[name] !== undefined);

function redriveQueueId(t: Template): string {
  const fn = functionWithEnv(t, REDRIVE_ENV.queueUrl);
  expect(fn, 'the redrive function').toBeDefined();
  return (fn![1].Properties.Environment.Variables[REDRIVE_ENV.queueUrl] as { Ref: string }).Ref;
}

describe('S3 notification to the redrive queue', () => {
  it('announces every object Lambda writes under aws/lambda/ to the redrive queue', () => {
    const queue = redriveQueueId(template);
    const bucket = onlyLogicalId(template, 'AWS::S3::Bucket');
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucket },
      NotificationConfiguration: {
        QueueConfigurations: [
          { Events: ['s3:ObjectCreated:*'], QueueArn: { 'Fn::GetAtt': [queue, 'Arn'] }, Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'aws/lambda/' }] } } },
        ],
      },
    });
  });

  it('the queue lets s3.amazonaws.com send for this bucket only, and its key lets S3 use exactly what AWS documents', () => {
    const queue = redriveQueueId(template);
    const bucket = onlyLogicalId(template, 'AWS::S3::Bucket');
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucket, 'Arn'] } } },
          }),
        ]),
      },
    });
    const key = resources[queue]!.Properties.KmsMasterKeyId['Fn::GetAtt'][0] as string;
    const statements = resources[key]!.Properties.KeyPolicy.Statement as { Principal?: { Service?: string }; Action: string | string[] }[];
    // Exactly the statement of S3's "Granting permissions to publish event notification messages to a
    // destination", "AWS KMS key policy": those two actions, no wildcard, and no aws:SourceArn /
    // aws:SourceAccount condition, which that page does not show (docs/deploying.md says why).
    expect(statements.filter((s) => JSON.stringify(s.Principal).includes('s3.amazonaws.com'))).toEqual([
      { Sid: 'AllowS3NotificationsToEncryptedQueues', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' },
    ]);
  });

  it('the queue keeps messages 14 days with no dead-letter queue, and a visibility timeout of six function timeouts', () => {
    const queue = resources[redriveQueueId(template)]!;
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queue.Properties.RedrivePolicy).toBeUndefined();
    const fn = functionWithEnv(template, REDRIVE_ENV.queueUrl)![1];
    expect(queue.Properties.VisibilityTimeout).toBe(6 * fn.Properties.Timeout);
  });
});

describe('redrive function', () => {
  it("runs with the notifier's own configuration values, so it publishes what the stream would", () => {
    const notifier = functionWithEnv(template, ENV.putEventsConcurrency)!;
    const redrive = functionWithEnv(template, REDRIVE_ENV.queueUrl)!;
    expect(notifier[0]).not.toBe(redrive[0]);
    const n = notifier[1].Properties.Environment.Variables as Record<string, unknown>;
    const r = redrive[1].Properties.Environment.Variables as Record<string, unknown>;
    for (const name of Object.values(ENV)) expect(r[name], name).toEqual(n[name]);
    expect(r[REDRIVE_ENV.bucket]).toEqual({ Ref: onlyLogicalId(template, 'AWS::S3::Bucket') });
  });

  it('takes one message at a time from the queue and reports failed ones', () => {
    const queue = redriveQueueId(template);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('may read and tag the objects but not write or delete them; it writes only claim-checked quarantine messages, under quarantine/', () => {
    const fnId = functionWithEnv(template, REDRIVE_ENV.queueUrl)![0];
    const roleId = resources[fnId]!.Properties.Role['Fn::GetAtt'][0] as string;
    const policy = ofType(template, 'AWS::IAM::Policy').find(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))!;
    const statements = policy[1].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging', 'events:PutEvents', 'sqs:ChangeMessageVisibility']));
    expect(actions.filter((a) => a.startsWith('s3:') && /Delete/.test(a))).toEqual([]);
    const writes = statements.filter((s) => [s.Action].flat().some((a) => a === 's3:PutObject' || a === 's3:*'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0]!.Resource)).toMatch(/\/quarantine\/\*"/);
    // SSE-KMS on the bucket: writing an object needs a data key.
    const keyActions = statements.filter((s) => JSON.stringify(s).includes('s3.')).flatMap((s) => [s.Action].flat());
    expect(keyActions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']));
  });

  it('the notifier and the redrive keep a quarantine message over 1 MiB in the on-failure bucket (QUARANTINE_BUCKET)', () => {
    const bucket = { Ref: onlyLogicalId(template, 'AWS::S3::Bucket') };
    expect(functionWithEnv(template, ENV.putEventsConcurrency)![1].Properties.Environment.Variables[ENV.quarantineBucket]).toEqual(bucket);
    expect(functionWithEnv(template, REDRIVE_ENV.queueUrl)![1].Properties.Environment.Variables[ENV.quarantineBucket]).toEqual(bucket);
  });

  it("the bucket's request metrics count Lambda's objects only (aws/lambda/), not the quarantine's", () => {
    template.hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [Match.objectLike({ Prefix: 'aws/lambda/' })] });
  });
});

describe('parked objects', () => {
  it('an object is parked after 16 attempts by default (REDRIVE_MAX_ATTEMPTS), and a parked object raises an alarm', () => {
    expect(functionWithEnv(template, REDRIVE_ENV.queueUrl)![1].Properties.Environment.Variables[REDRIVE_ENV.maxAttempts]).toBe('16');
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').filter(([, a]) => JSON.stringify(a.Properties).includes('RedriveParkedObjects'));
    expect(alarms).toHaveLength(1);
    const a = alarms[0]![1].Properties;
    expect(a.Threshold).toBe(1);
    expect(a.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    expect(a.TreatMissingData).toBe('notBreaching');
    expect(String(a.AlarmDescription)).toMatch(/parked/);
  });
});

describe('stale-object alarm', () => {
  function staleAlarm(t: Template) {
    const alarms = ofType(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => String(a.Properties.AlarmDescription ?? '').includes('not been redriven'));
    expect(alarms).toHaveLength(1);
    return alarms[0]![1].Properties;
  }

  it('fires when the queue has held a message for the whole default 6 hours; no data (an empty, inactive queue) is not breaching', () => {
    const a = staleAlarm(template);
    expect(a.EvaluationPeriods).toBe(72);
    expect(a.DatapointsToAlarm).toBe(72);
    expect(a.Threshold).toBe(1);
    expect(a.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    expect(a.TreatMissingData).toBe('notBreaching');
    const queue = redriveQueueId(template);
    const metrics = a.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] }; Period: number; Stat: string } }[];
    expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe('visible + inFlight');
    const names = metrics.filter((m) => m.MetricStat !== undefined).map((m) => m.MetricStat!.Metric.MetricName).sort();
    expect(names).toEqual(['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesVisible']);
    for (const m of metrics.filter((x) => x.MetricStat !== undefined)) {
      expect(m.MetricStat!.Period).toBe(300);
      expect(m.MetricStat!.Metric.Dimensions[0]!.Value).toEqual({ 'Fn::GetAtt': [queue, 'QueueName'] });
    }
  });

  it('follows redriveStaleAfterHours: 1 hour is 12 five-minute periods; 2 days switch to hourly periods', () => {
    const oneHour = Template.fromStack(buildTestApp({ ...WITHOUT_CONSUMERS, redriveStaleAfterHours: 1 }).stack);
    expect(staleAlarm(oneHour).EvaluationPeriods).toBe(12);
    const twoDays = staleAlarm(Template.fromStack(buildTestApp({ ...WITHOUT_CONSUMERS, redriveStaleAfterHours: 48 }).stack));
    expect(twoDays.EvaluationPeriods).toBe(48);
    expect((twoDays.Metrics as { MetricStat?: { Period: number } }[]).find((m) => m.MetricStat !== undefined)!.MetricStat!.Period).toBe(3600);
  });
});

describe('opt-ins', () => {
  it('tracing is off by default: no active tracing, no POWERTOOLS_TRACE_ENABLED', () => {
    for (const [, fn] of ofType(template, 'AWS::Lambda::Function')) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect(fn.Properties.Environment?.Variables?.POWERTOOLS_TRACE_ENABLED).toBeUndefined();
    }
  });

  it('tracing: true turns on active tracing and the Tracer for the notifier and the redrive, cdk-nag still clean', () => {
    const traced = buildTestApp({ ...WITHOUT_CONSUMERS, tracing: true });
    const t = Template.fromStack(traced.stack);
    for (const name of [ENV.putEventsConcurrency, REDRIVE_ENV.queueUrl]) {
      const fn = functionWithEnv(t, name)![1];
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('true');
    }
    for (const pack of traced.nagPacks) expect(pack.validateScope(traced.app).violations, pack.name).toEqual([]);
  });

  it('tracing: true also traces the reference indexer, so a change can be followed from the stream to an indexer', () => {
    const traced = buildTestApp({ resyncFunction: false, tracing: true });
    const fn = functionWithEnv(Template.fromStack(traced.stack), INDEXER_ENV.tableName)![1];
    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    for (const pack of traced.nagPacks) expect(pack.validateScope(traced.app).violations, pack.name).toEqual([]);
  });

  it('source maps are off by default: no function starts with --enable-source-maps (it parses the whole map at every cold start)', () => {
    const all = Template.fromStack(buildTestApp({}).stack);
    const fns = ofType(all, 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(3);
    for (const [, fn] of fns) expect(fn.Properties.Environment?.Variables?.NODE_OPTIONS).toBeUndefined();
  });

  it('sourceMaps: true turns them on for the notifier, the redrive, the reference indexer and the resync function', () => {
    const t = Template.fromStack(buildTestApp({ resyncFunction: true, sourceMaps: true }).stack);
    for (const name of [ENV.putEventsConcurrency, REDRIVE_ENV.queueUrl, INDEXER_ENV.tableName, RESYNC_ENV.stateTableName]) {
      expect(functionWithEnv(t, name)![1].Properties.Environment.Variables.NODE_OPTIONS, name).toBe('--enable-source-maps');
    }
  });

  it('redrive: false leaves out the queue, the function and the notification', () => {
    const t = Template.fromStack(buildTestApp({ ...WITHOUT_CONSUMERS, redrive: false }).stack);
    expect(functionWithEnv(t, REDRIVE_ENV.queueUrl)).toBeUndefined();
    expect(ofType(t, 'Custom::S3BucketNotifications')).toEqual([]);
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions and Serverless report no unacknowledged finding with the redrive', () => {
    for (const pack of built.nagPacks) expect(pack.validateScope(built.app).violations, pack.name).toEqual([]);
  });
});

/**
 * Synth of the heartbeat (infra/heartbeat.ts): the schedule (a DynamoDB UpdateItem universal
 * target writing the reserved item with the scheduled time), its role (UpdateItem on that one
 * item of that one table, and the table's key through DynamoDB), the stalled alarm (missing data
 * breaching) and the lag on the dashboard, for a new and an existing table; nothing of it when off.
 */
import { describe, expect, it } from 'vitest';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE, heartbeatJsonSchema } from '../../functions/notifier/contract/index.js';
import { HypervisorNotifier } from '../../infra/hypervisor-notifier.js';
import { buildTestApp, NOTIFIER_ONLY, onlyLogicalId, SKIP_BUNDLING } from './helpers.js';

const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/compute-nodes/stream/2026-01-01T00:00:00.000';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1111aaaa-2222-bbbb-3333-cccc4444dddd';
const EXISTING = { existingTableName: 'compute-nodes', existingTableStreamArn: STREAM_ARN, existingTableStreamViewType: 'NEW_AND_OLD_IMAGES' };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- CloudFormation JSON of any shape

function synth(context: Record<string, unknown>): Template {
  // NOTIFIER_ONLY turns the heartbeat off; null puts the context's default back.
  return Template.fromStack(buildTestApp({ ...NOTIFIER_ONLY, heartbeatIntervalMinutes: null, stackName: 'Heartbeat', ...context }).stack);
}

/** The one schedule's properties, its role's policy statements and the role's trust policy. */
function heartbeatParts(template: Template) {
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
  expect(schedules).toHaveLength(1);
  const schedule = schedules[0]!.Properties as Json;
  const roleId = schedule.Target.RoleArn['Fn::GetAtt'][0] as string;
  const role = template.findResources('AWS::IAM::Role')[roleId]!.Properties as Json;
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId));
  const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
  return { schedule, role, statements };
}

function stalledAlarms(template: Template): Json[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties as Json)
    .filter((p) => p.MetricName === 'HeartbeatsPublished');
}

const dashboardBody = (template: Template): string => JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);

describe('the heartbeat on a table the stack creates (default: every minute)', () => {
  const template = synth({});

  it('a schedule every minute, on time, calling DynamoDB UpdateItem on the reserved item with the scheduled time', () => {
    const { schedule } = heartbeatParts(template);
    expect(schedule.ScheduleExpression).toBe('rate(1 minute)');
    expect(schedule.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(JSON.stringify(schedule.Target.Arn)).toContain(':scheduler:::aws-sdk:dynamodb:updateItem');
    const input = JSON.stringify(schedule.Target.Input);
    const tableId = onlyLogicalId(template, 'AWS::DynamoDB::Table');
    expect(input).toContain(`{"Ref":"${tableId}"}`);
    expect(input).toContain(HEARTBEAT_ITEM_KEY);
    expect(input).toContain(HEARTBEAT_WRITTEN_AT_ATTRIBUTE);
    expect(input).toContain('<aws.scheduler.scheduled-time>');
  });

  it('its role: assumed by Scheduler of this account only; UpdateItem on that table and item only, and the table key through DynamoDB', () => {
    const { role, statements } = heartbeatParts(template);
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
    ]);
    const tableId = onlyLogicalId(template, 'AWS::DynamoDB::Table');
    const keyId = onlyLogicalId(template, 'AWS::KMS::Key');
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatchObject({
      Action: 'dynamodb:UpdateItem',
      Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [HEARTBEAT_ITEM_KEY], 'dynamodb:Attributes': ['uuid', HEARTBEAT_WRITTEN_AT_ATTRIBUTE] } },
    });
    expect(statements[1]).toMatchObject({ Resource: { 'Fn::GetAtt': [keyId, 'Arn'] }, Condition: { StringEquals: { 'kms:ViaService': expect.anything() } } });
    expect(JSON.stringify(statements[1]!.Condition)).toContain('dynamodb.');
    expect((statements[1]!.Action as string[]).every((a) => a.startsWith('kms:'))).toBe(true);
  });

  it('a "pipeline stalled" alarm: no heartbeat published in any of the last 5 minutes, missing data breaching', () => {
    const alarms = stalledAlarms(template);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Namespace: 'HypervisorNotifications',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'breaching',
    });
  });

  it('the lag metric on the dashboard', () => {
    expect(dashboardBody(template)).toContain('HeartbeatLag');
  });

  it('the heartbeat event\'s JSON Schema in the registry, generated from the contract', () => {
    const found = Object.values(template.findResources('AWS::EventSchemas::Schema')).filter((r) => r.Properties.SchemaName === 'hypervisor_notifier.heartbeat@1');
    expect(found).toHaveLength(1);
    expect(found[0]!.Properties.Content).toBe(JSON.stringify(heartbeatJsonSchema().jsonSchema));
    expect(JSON.parse(found[0]!.Properties.Content as string).required).toEqual(['message_id', 'written_at', 'handled_at', 'epoch', 'sequence_number', 'lag_ms']);
  });
});

describe('the heartbeat on an existing table', () => {
  it('with its customer key: UpdateItem on that table, the key through DynamoDB', () => {
    const template = synth({ ...EXISTING, existingTableKmsKeyArn: KEY_ARN });
    const { statements, schedule } = heartbeatParts(template);
    expect(JSON.stringify(schedule.Target.Input)).toContain('compute-nodes');
    expect(statements).toHaveLength(2);
    expect(JSON.stringify(statements[0]!.Resource)).toContain(':table/compute-nodes');
    expect(statements[0]!.Action).toBe('dynamodb:UpdateItem');
    expect(statements[1]).toMatchObject({ Resource: KEY_ARN });
    expect(stalledAlarms(template)).toHaveLength(1);
  });

  it('without a customer key: UpdateItem only', () => {
    const { statements } = heartbeatParts(synth(EXISTING));
    expect(statements.map((s) => s.Action)).toEqual(['dynamodb:UpdateItem']);
  });
});

describe('the heartbeat options', () => {
  it('every 5 minutes: the rate, and the alarm waits twice that by default', () => {
    const template = synth({ heartbeatIntervalMinutes: 5 });
    expect(heartbeatParts(template).schedule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(stalledAlarms(template)[0]).toMatchObject({ EvaluationPeriods: 10, DatapointsToAlarm: 10 });
  });

  it('a stalled time shorter than twice the interval fails synth, naming the option', () => {
    expect(() => synth({ heartbeatIntervalMinutes: 5, heartbeatStalledAfterMinutes: 6 })).toThrow(/stalledAfterMinutes.*at least twice the interval \(10\)/);
  });

  it("a stalled time over a day fails synth in a user stack too, naming the option (CloudWatch refuses a one-minute alarm evaluated over more than a day)", () => {
    const construct = (stalledAfterMinutes: number) => {
      const stack = new Stack(new App({ context: SKIP_BUNDLING }), 'User', { env: { account: '123456789012', region: 'eu-west-1' } });
      return new HypervisorNotifier(stack, 'N', { redrive: false, heartbeat: { interval: Duration.minutes(30), stalledAfterMinutes } });
    };
    expect(() => construct(1441)).toThrow(/stalledAfterMinutes: .*at most 1440/);
    expect(construct(1440).heartbeat?.stalledAlarm).toBeDefined();
  });

  it('off (interval 0): no schedule, no role for it, no stalled alarm, no lag on the dashboard', () => {
    const template = synth({ heartbeatIntervalMinutes: 0 });
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    const trusted = Object.values(template.findResources('AWS::IAM::Role')).map((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument));
    expect(trusted.some((t) => t.includes('scheduler.amazonaws.com'))).toBe(false);
    expect(stalledAlarms(template)).toEqual([]);
    expect(dashboardBody(template)).not.toContain('HeartbeatLag');
  });
});

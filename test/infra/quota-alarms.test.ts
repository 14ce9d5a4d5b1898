/**
 * The first quota wall, alarmed (infra/quota-alarms.ts): when the region's rule invocations quota
 * is reached, EventBridge throttles the invocations (delays them; docs/capacity.md), which no
 * other alarm of the stack sees. The stack alarms on EventBridge's account-wide `ThrottledRules`
 * and draws the account's `InvocationsCreated` a second against the region's default quota.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { quotasFor } from '../../infra/capacity-quotas.js';
import { buildTestApp, NOTIFIER_ONLY } from './helpers.js';

// Untyped CloudFormation JSON: `any` where the test walks into it.
type Resource = { Type: string; Properties: Record<string, any> };

function resources(context: Record<string, unknown>): Record<string, Resource> {
  return Template.fromStack(buildTestApp({ ...NOTIFIER_ONLY, ...context }).stack).toJSON().Resources as Record<string, Resource>;
}

/** The alarms on `AWS/Events ThrottledRules`. */
function throttledRulesAlarms(r: Record<string, Resource>): Resource[] {
  return Object.values(r).filter((x) => x.Type === 'AWS::CloudWatch::Alarm' && x.Properties.Namespace === 'AWS/Events' && x.Properties.MetricName === 'ThrottledRules');
}

/** The dashboard's body with the tokens CloudFormation resolves left as JSON (their text is what matters here). */
function dashboardBody(r: Record<string, Resource>): string {
  const dashboards = Object.values(r).filter((x) => x.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

describe('the rule invocations quota (the first wall)', () => {
  it('raises an alarm as soon as EventBridge throttles any rule invocation of the account in the region', () => {
    const alarms = throttledRulesAlarms(resources({ account: '111111111111', region: 'eu-west-1' }));
    expect(alarms).toHaveLength(1);
    const p = alarms[0]!.Properties;
    // Account-wide (no dimension): the quota is the account's, shared by every bus and rule of the region.
    expect(p.Dimensions ?? []).toEqual([]);
    expect(p.Statistic).toBe('Sum');
    expect(p.Period).toBe(300);
    expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(p.Threshold).toBe(0);
    expect(p.EvaluationPeriods).toBe(1);
    // Published only when something is throttled: no data is nothing throttled.
    expect(p.TreatMissingData).toBe('notBreaching');
    expect(p.AlarmDescription).toMatch(/Invocations throttle limit in transactions per second/);
  });

  it('notifies the alarm topic (alarm and OK) like every other alarm', () => {
    const r = resources({ alarmEmail: 'ops@example.com' });
    const p = throttledRulesAlarms(r)[0]!.Properties;
    const topics = Object.keys(r).filter((id) => r[id]!.Type === 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    expect(p.AlarmActions).toEqual([{ Ref: topics[0] }]);
    expect(p.OKActions).toEqual([{ Ref: topics[0] }]);
  });

  it.each([
    ['eu-west-1', { account: '111111111111', region: 'eu-west-1' }],
    ['eu-north-1', { account: '111111111111', region: 'eu-north-1' }],
    ['a region unknown at synth (the lowest default)', {}],
  ] as const)('shows on the dashboard: invocations created a second against the default quota of %s, throttled rules and the alarm', (_name, context) => {
    const r = resources(context);
    const body = dashboardBody(r);
    expect(body).toContain('"AWS/Events","InvocationsCreated"');
    expect(body).toContain('"AWS/Events","ThrottledRules"');
    const quota = quotasFor(typeof context === 'object' && 'region' in context ? context.region : undefined).invocationsPerSecond;
    expect(body).toContain(`"value":${quota}`);
    const alarmIds = Object.keys(r).filter((id) => r[id]!.Type === 'AWS::CloudWatch::Alarm' && r[id]!.Properties.MetricName === 'ThrottledRules');
    expect(body).toContain(JSON.stringify({ 'Fn::GetAtt': [alarmIds[0], 'Arn'] }));
  });
});

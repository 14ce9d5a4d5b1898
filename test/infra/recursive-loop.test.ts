/**
 * Which functions may loop through their own queue (Lambda developer guide, "Use Lambda
 * recursive loop detection to prevent infinite loops", invocation-recursion): the reference
 * indexer (a long sweep's continuations) and the redrive (a message re-sent before the queue's
 * retention ends) are Allow, each with its own bound; every other function keeps Lambda's
 * Terminate. The indexer's bound reaches the alarm topic.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SWEEP_CONTINUATIONS, INDEXER_ENV, SWEEP_CHAIN_STOPPED_MESSAGE } from '../../functions/indexer/indexer.js';
import { REDRIVE_ENV } from '../../functions/redrive/config.js';
import { buildTestApp } from './helpers.js';

// The synthesized template is untyped CloudFormation JSON: `any` where the test walks into it.
type Resource = { Type: string; Properties: Record<string, any> };

describe('recursive loops', () => {
  const json = Template.fromStack(buildTestApp({ alarmEmail: 'ops@example.com' }).stack).toJSON();
  const resources = json.Resources as Record<string, Resource>;
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const env = (r: Resource) => (r.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;

  it('only the indexer and the redrive may loop; the indexer knows its bound', () => {
    const allowed = functions.filter(([, r]) => r.Properties.RecursiveLoop === 'Allow');
    expect(allowed.map(([, r]) => (INDEXER_ENV.tableName in env(r) ? 'indexer' : REDRIVE_ENV.queueUrl in env(r) ? 'redrive' : 'other')).sort()).toEqual(['indexer', 'redrive']);
    for (const [id, r] of functions) expect([undefined, 'Allow'], id).toContain(r.Properties.RecursiveLoop);
    const [, indexer] = allowed.find(([, r]) => INDEXER_ENV.tableName in env(r))!;
    expect(env(indexer)[INDEXER_ENV.maxSweepContinuations]).toBe(String(DEFAULT_MAX_SWEEP_CONTINUATIONS));
  });

  it("an alarm counts the indexer's stopped chains in its log group and notifies the alarm topic", () => {
    const filters = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter' && String(r.Properties.FilterPattern).includes(SWEEP_CHAIN_STOPPED_MESSAGE));
    expect(filters).toHaveLength(1);
    const metric = filters[0]!.Properties.MetricTransformations[0] as { MetricName: string; MetricNamespace: string };
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === metric.MetricName && r.Properties.Namespace === metric.MetricNamespace);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties.AlarmActions).toHaveLength(1);
    expect(alarms[0]!.Properties.Threshold).toBe(1);
  });
});

/**
 * Every alarm of the stack is heard (infra/alarm-topic.ts): in every configuration, given an
 * alarm topic, each alarm sends both ALARM and OK to it (the redrive's, the heartbeat's, the
 * reference indexer's, the routes' and the quota alarm included). The one exception is the global
 * endpoint's health alarm, which Route 53 reads and which pages nobody by design.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEPLOY_CONFIGURATIONS } from './configurations.js';
import { buildTestApp } from './helpers.js';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:111111111111:ops-alarms';

describe('alarm topic', () => {
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))('%s: every alarm sends ALARM and OK to the alarm topic', (_name, c) => {
    const alarms = Template.fromStack(buildTestApp({ ...c.context, alarmTopicArn: TOPIC_ARN }).stack).findResources('AWS::CloudWatch::Alarm');
    const unheard = Object.entries(alarms)
      .filter(([id]) => !id.includes('GlobalEndpointLatencyAlarm'))
      .filter(([, a]) => JSON.stringify(a.Properties.AlarmActions) !== JSON.stringify([TOPIC_ARN]) || JSON.stringify(a.Properties.OKActions) !== JSON.stringify([TOPIC_ARN]))
      .map(([id]) => id);
    expect(Object.keys(alarms).length).toBeGreaterThan(10);
    expect(unheard).toEqual([]);
  });
});

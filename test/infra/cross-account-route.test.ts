/**
 * Routes to targets in other accounts (issue 22): the execution role with the target's one
 * action, the rule target with that role and our delivery dead-letter queue, no queue created
 * for the target, the resource policy the other account must attach as an output, the alarms in
 * our account, and the targets EventBridge cannot deliver to refused at synth.
 */
import { describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HypervisorNotifier } from '../../infra/hypervisor-notifier.js';
import { indexerRoutePattern } from '../../infra/indexer-route-pattern.js';
import { buildTestApp, NOTIFIER_ONLY, SKIP_BUNDLING } from './helpers.js';

const OURS = { account: '111111111111', region: 'eu-west-1' };
const QUEUE = 'arn:aws:sqs:eu-west-1:222222222222:search-indexer';
const TOPIC = 'arn:aws:sns:eu-west-1:222222222222:capacity';
const FUNCTION = 'arn:aws:lambda:eu-west-1:333333333333:function:scheduler:live';
const REMOTE_BUS = 'arn:aws:events:us-east-1:222222222222:event-bus/nova-replica';

type Json = Record<string, any>;

function notifierIn(env: { account: string; region: string } | undefined, name = 'Owner'): { stack: Stack; notifier: HypervisorNotifier } {
  const stack = new Stack(new App({ context: SKIP_BUNDLING }), name, env === undefined ? {} : { env });
  return { stack, notifier: new HypervisorNotifier(stack, 'Notifier', { redrive: false }) };
}

/** The rule whose only target is `arn`, and that target. */
function ruleTo(t: Template, arn: string): { rule: Json; target: Json } {
  const found = Object.values(t.findResources('AWS::Events::Rule')).flatMap((r: Json) =>
    ((r.Properties.Targets ?? []) as Json[]).filter((x) => x.Arn === arn).map((target) => ({ rule: r.Properties as Json, target })),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The role a target names (`Fn::GetAtt [id, Arn]`) with its trust and inline policy statements. */
function roleOf(t: Template, target: Json): { trust: Json[]; statements: Json[] } {
  const roleId = target.RoleArn['Fn::GetAtt'][0] as string;
  const role = t.toJSON().Resources[roleId] as Json;
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p: Json) =>
    (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId),
  );
  return { trust: role.Properties.AssumeRolePolicyDocument.Statement, statements: policies.flatMap((p: Json) => p.Properties.PolicyDocument.Statement) };
}

describe('cross-account route', () => {
  it('SQS queue in another account: a role with sqs:SendMessage on it only, the rule target with the role and our delivery DLQ, no queue created for it', () => {
    const { stack, notifier } = notifierIn(OURS);
    const baselineQueues = Object.keys(Template.fromStack(notifierIn(OURS, 'Baseline').stack).findResources('AWS::SQS::Queue')).length;
    const route = notifier.addCrossAccountRoute('Search', { targetArn: QUEUE, changedFields: ['running_vms'] });
    const t = Template.fromStack(stack);

    const { rule, target } = ruleTo(t, QUEUE);
    expect(rule.EventPattern).toEqual(indexerRoutePattern({ source: notifier.eventSource, changedFields: ['running_vms'] }));
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    // The delivery DLQ is a queue of this stack.
    const dlqId = target.DeadLetterConfig.Arn['Fn::GetAtt'][0] as string;
    expect(t.toJSON().Resources[dlqId].Type).toBe('AWS::SQS::Queue');
    expect(stack.resolve(route.deliveryDeadLetterQueue.queueArn)).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });

    const { trust, statements } = roleOf(t, target);
    expect(trust).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } }]);
    expect(statements).toEqual([{ Sid: 'DeliverToTarget', Action: 'sqs:SendMessage', Effect: 'Allow', Resource: QUEUE }]);

    // One queue more than without the route, the delivery DLQ: nothing for the target itself.
    t.resourceCountIs('AWS::SQS::Queue', baselineQueues + 1);
    // The DLQ lets only this rule send to it.
    const dlqPolicy = Object.values(t.findResources('AWS::SQS::QueuePolicy')).find((p: Json) => (p.Properties.Queues as Json[]).some((q) => q.Ref === dlqId)) as Json;
    const allow = (dlqPolicy.Properties.PolicyDocument.Statement as Json[]).filter((s) => s.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': expect.anything() } } });

    // Alarms in our account: failed deliveries of the rule and the delivery DLQ's depth.
    const alarms = Object.keys(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.filter((id) => id.includes('SearchFailedInvocationsAlarm'))).toHaveLength(1);
    expect(alarms.filter((id) => id.includes('SearchDeliveryDeadLetterAlarm'))).toHaveLength(1);

    // The policy the other account must attach: the role may send to the queue, nothing more.
    const outputs = t.toJSON().Outputs as Json;
    const policyOutput = Object.entries(outputs).find(([id]) => id.includes('TargetPolicy'))![1] as Json;
    const roleId = target.RoleArn['Fn::GetAtt'][0] as string;
    const joined = policyOutput.Value['Fn::Join'][1] as unknown[];
    expect(joined).toContainEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const text = joined.map((p) => (typeof p === 'string' ? p : 'ROLE')).join('');
    expect(JSON.parse(text)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AllowHypervisorNotificationsRoute', Effect: 'Allow', Principal: { AWS: 'ROLE' }, Action: 'sqs:SendMessage', Resource: QUEUE }],
    });
    expect(notifier.watchedFields).toContain('running_vms');
  });

  it('SNS topic and Lambda function: sns:Publish and lambda:InvokeFunction on exactly the given ARN', () => {
    const { stack, notifier } = notifierIn(OURS);
    notifier.addCrossAccountRoute('Capacity', { targetArn: TOPIC });
    notifier.addCrossAccountRoute('Scheduler', { targetArn: FUNCTION, detailTypes: ['compute_node.delete'] });
    const t = Template.fromStack(stack);
    expect(roleOf(t, ruleTo(t, TOPIC).target).statements).toEqual([{ Sid: 'DeliverToTarget', Action: 'sns:Publish', Effect: 'Allow', Resource: TOPIC }]);
    expect(roleOf(t, ruleTo(t, FUNCTION).target).statements).toEqual([{ Sid: 'DeliverToTarget', Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: FUNCTION }]);
  });

  it('an encrypted target queue: the role may use its key through SQS in that region only, and the key-policy statement is an output', () => {
    const { stack, notifier } = notifierIn(OURS);
    const key = 'arn:aws:kms:eu-west-1:222222222222:key/0b6f8a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
    notifier.addCrossAccountRoute('Search', { targetArn: QUEUE, targetKeyArn: key });
    const t = Template.fromStack(stack);
    expect(roleOf(t, ruleTo(t, QUEUE).target).statements).toContainEqual({
      Sid: 'EncryptForTarget',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: key,
      Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' } },
    });
    expect(Object.keys(t.toJSON().Outputs as Json).filter((id) => id.includes('TargetKeyPolicy'))).toHaveLength(1);
  });

  it('an event bus in another account and region: events:PutEvents on it through the role, DLQ in our region', () => {
    const { stack, notifier } = notifierIn(OURS);
    notifier.addCrossAccountRoute('Replica', { targetArn: REMOTE_BUS });
    const t = Template.fromStack(stack);
    const { target } = ruleTo(t, REMOTE_BUS);
    expect(roleOf(t, target).statements).toEqual([{ Sid: 'DeliverToTarget', Action: 'events:PutEvents', Effect: 'Allow', Resource: REMOTE_BUS }]);
    expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][1]).toBe('Arn');
  });

  it('refuses what EventBridge cannot deliver to, naming the ARN and the reason', () => {
    const refuse = (targetArn: string, re: RegExp): void => {
      const { notifier } = notifierIn(OURS, `R${Math.random().toString(36).slice(2, 8)}`);
      expect(() => notifier.addCrossAccountRoute('X', { targetArn })).toThrow(re);
    };
    refuse('arn:aws:sqs:us-east-1:222222222222:q', /region us-east-1.*only in the bus's region \(eu-west-1\)/);
    refuse('arn:aws:sqs:eu-west-1:111111111111:q', /own account 111111111111/);
    refuse('arn:aws:events:eu-west-1:111111111111:event-bus/b', /own account 111111111111 and region/);
    refuse('arn:aws:sqs:eu-west-1:222222222222:q.fifo', /FIFO queue/);
    refuse('arn:aws:kinesis:eu-west-1:222222222222:stream/s', /service 'kinesis' is not a supported/);
    refuse('sqs-queue', /is not an ARN/);
    // A bus of our own account in another region is a legitimate cross-region target.
    const { notifier } = notifierIn(OURS, 'OwnBusElsewhere');
    expect(() => notifier.addCrossAccountRoute('X', { targetArn: 'arn:aws:events:us-east-1:111111111111:event-bus/b' })).not.toThrow();
  });

  it('an environment-agnostic stack asserts at deploy that a queue target is in the stack region', () => {
    const { stack, notifier } = notifierIn(undefined);
    notifier.addCrossAccountRoute('Search', { targetArn: QUEUE });
    const rules = Template.fromStack(stack).toJSON().Rules as Json;
    const assertions = Object.values(rules).flatMap((r: Json) => r.Assertions as Json[]);
    expect(assertions).toContainEqual(expect.objectContaining({ Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } }));
  });

  it('shares the id space with indexer routes', () => {
    const { notifier } = notifierIn(OURS);
    notifier.addIndexerRoute('Search');
    expect(() => notifier.addCrossAccountRoute('Search', { targetArn: QUEUE })).toThrow(/already exists/);
  });
});

describe('cross-account options in cdk.json', () => {
  it('crossAccountRoutes as -c JSON text and consumerAccounts comma-separated reach the stack', () => {
    const { stack } = buildTestApp({
      ...NOTIFIER_ONLY,
      account: '111111111111',
      region: 'eu-west-1',
      crossAccountRoutes: JSON.stringify([{ id: 'Search', targetArn: QUEUE, changedFields: ['running_vms'] }]),
      consumerAccounts: '222222222222,333333333333',
    });
    expect([...stack.notifier.crossAccountRoutes.keys()]).toEqual(['Search']);
    expect(stack.notifier.crossAccountRoutes.get('Search')!.target.account).toBe('222222222222');
    expect(stack.notifier.consumerAccounts).toBeDefined();
  });

  it('a bad route is a context error naming the key and the rule', () => {
    expect(() => buildTestApp({ crossAccountRoutes: [{ id: 'Search' }] })).toThrow(/crossAccountRoutes\.0\.targetArn/);
    expect(() => buildTestApp({ crossAccountRoutes: [{ id: 'A', targetArn: QUEUE }, { id: 'A', targetArn: TOPIC }] })).toThrow(/route id 'A' is used twice/);
    expect(() => buildTestApp({ consumerAccounts: '1234' })).toThrow(/consumerAccounts\.0: must be a 12-digit account id/);
  });
});

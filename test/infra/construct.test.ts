/**
 * `HypervisorNotifier` used from someone else's stack: routes added with `addIndexerRoute`
 * and through props, a table of the same app, and the failures that protect the user.
 */
import { describe, expect, it } from 'vitest';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { HypervisorNotifier } from '../../infra/hypervisor-notifier.js';
import { indexerRoutePattern } from '../../infra/indexer-route-pattern.js';
import { SKIP_BUNDLING } from './helpers.js';

function newStack(name: string): Stack {
  return new Stack(new App({ context: SKIP_BUNDLING }), name);
}

const rules = (t: Template) => Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties as Record<string, any>);

describe('HypervisorNotifier in a user stack', () => {
  it('adds routes from props and from addIndexerRoute, each with the pattern builder output', () => {
    const stack = newStack('UserStack');
    const notifier = new HypervisorNotifier(stack, 'Notifier', {
      eventSource: 'example.nova',
      watchedFields: ['vcpus_used', 'memory_mb', 'running_vms'],
      indexerRoutes: [{ id: 'Expiries', detailTypes: ['compute_node.delete'], causes: ['ttl'] }],
    });
    const placement = notifier.addIndexerRoute('Placement', { changedFields: ['vcpus_used', 'memory_mb'], origins: ['stream'] });
    const all = notifier.addIndexerRoute('Search');
    const t = Template.fromStack(stack);

    const patterns = rules(t).map((r) => r.EventPattern);
    expect(patterns).toHaveLength(3);
    expect(patterns).toContainEqual(indexerRoutePattern({ source: 'example.nova', detailTypes: ['compute_node.delete'], causes: ['ttl'] }));
    expect(patterns).toContainEqual({
      source: ['example.nova'],
      'detail-type': ['compute_node.update'],
      detail: { change: { changed_fields: ['vcpus_used', 'memory_mb'], origin: ['stream'] } },
    });
    expect(patterns).toContainEqual({ source: ['example.nova'], 'detail-type': ['compute_node.create', 'compute_node.update', 'compute_node.delete'] });
    expect(placement.pattern).toEqual(indexerRoutePattern({ source: 'example.nova', changedFields: ['vcpus_used', 'memory_mb'], origins: ['stream'] }));
    expect([...notifier.indexerRoutes.keys()]).toEqual(['Expiries', 'Placement', 'Search']);
    expect(all.queue).not.toBe(placement.queue);
    // 1 quarantine + 1 redrive + 3 queues per route.
    t.resourceCountIs('AWS::SQS::Queue', 1 + 1 + 3 * 3);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { WATCHED_FIELDS: 'vcpus_used,memory_mb,running_vms', EVENT_SOURCE: 'example.nova' } } });
  });

  it('watches the fields a route filters on (else no update would ever name them)', () => {
    const stack = newStack('Unwatched');
    const notifier = new HypervisorNotifier(stack, 'Notifier', { watchedFields: ['running_vms'] });
    notifier.addIndexerRoute('Disk', { changedFields: ['local_gb'] });
    expect(notifier.watchedFields).toEqual(['local_gb', 'running_vms']);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { WATCHED_FIELDS: 'running_vms,local_gb' } } });
  });

  it('refuses two routes with the same id', () => {
    const notifier = new HypervisorNotifier(newStack('Twice'), 'Notifier');
    notifier.addIndexerRoute('A');
    expect(() => notifier.addIndexerRoute('A')).toThrow(/already exists/);
  });

  it("reads the view type of a table defined in the same app and fails synth when it is not NEW_AND_OLD_IMAGES", () => {
    const stack = newStack('SameAppTable');
    const table = new dynamodb.Table(stack, 'Nodes', {
      partitionKey: { name: 'uuid', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.KEYS_ONLY,
    });
    expect(() => new HypervisorNotifier(stack, 'Notifier', { existingTable: table })).toThrow(
      /has view type KEYS_ONLY, but the notifier needs NEW_AND_OLD_IMAGES/,
    );
  });

  it('fails synth for an existing table without a stream', () => {
    const stack = newStack('NoStream');
    const table = new dynamodb.Table(stack, 'Nodes', { partitionKey: { name: 'uuid', type: dynamodb.AttributeType.STRING } });
    expect(() => new HypervisorNotifier(stack, 'Notifier', { existingTable: table })).toThrow(/stream/);
  });

  it('accepts a same-app table with NEW_AND_OLD_IMAGES and a bus by name (default bus: RuleName-only metric)', () => {
    const stack = newStack('SameAppOk');
    const table = new dynamodb.Table(stack, 'Nodes', {
      partitionKey: { name: 'uuid', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    const notifier = new HypervisorNotifier(stack, 'Notifier', {
      existingTable: table,
      eventBus: events.EventBus.fromEventBusName(stack, 'Default', 'default'),
      archiveRetention: Duration.days(7),
      logRetention: 14,
      batchSize: 10,
    });
    notifier.addIndexerRoute('All');
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 7 });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
    const failed = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .flatMap((a) => (a.Properties.Metrics as Array<any> | undefined) ?? [])
      .filter((m) => m.MetricStat?.Metric?.MetricName === 'FailedInvocations');
    expect(failed[0].MetricStat.Metric.Dimensions.map((d: { Name: string }) => d.Name)).toEqual(['RuleName']);
  });

  it('a config value the function would reject fails synth', () => {
    expect(() => new HypervisorNotifier(newStack('BadSource'), 'Notifier', { eventSource: 'aws.nova' })).toThrow(/EVENT_SOURCE: must not start with "aws."/);
    expect(() => new HypervisorNotifier(newStack('BadConcurrency'), 'Notifier', { putEventsConcurrency: 0 })).toThrow(/PUT_EVENTS_CONCURRENCY/);
  });
});

describe('the function timeout leaves time to publish', () => {
  // The notifier keeps back max(1 s, 20 %) of an invocation for handing records back to Lambda
  // (functions/notifier/notifier.ts): with 1 s or less, it would publish nothing, on every try.
  it('refuses a timeout under 3 seconds, naming the prop, the value and why', () => {
    expect(() => new HypervisorNotifier(newStack('ShortTimeout'), 'Notifier', { timeout: Duration.seconds(1) })).toThrow(
      /timeout: 1 s is under the 3 s minimum: the notifier keeps back max\(1 s, 20 %\) of an invocation/,
    );
    expect(() => new HypervisorNotifier(newStack('TwoSeconds'), 'Notifier', { timeout: Duration.millis(2_999) })).toThrow(/under the 3 s minimum/);
  });

  it('takes 3 seconds', () => {
    const t = Template.fromStack(((stack) => (new HypervisorNotifier(stack, 'Notifier', { timeout: Duration.seconds(3) }), stack))(newStack('ThreeSeconds')));
    const fns = Object.values(t.findResources('AWS::Lambda::Function')).map((r) => (r.Properties as { Timeout?: number; Description?: string }));
    expect(fns.find((f) => f.Description?.startsWith('Turns compute node table changes'))?.Timeout).toBe(3);
  });
});


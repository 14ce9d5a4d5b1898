/**
 * Watched fields as a contract between the notifier and its consumers: every consumer (an
 * indexer route, the reference indexer, a consumer declared from elsewhere) states the payload
 * fields it reads, and the notifier watches the union of those and the configured fields.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { BuiltApp } from '../../infra/build-app.js';
import { HypervisorNotifier } from '../../infra/hypervisor-notifier.js';
import { loadConfig } from '../../functions/notifier/config.js';
import { ComputeNodePayload, SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { REFERENCE_INDEXER_READ_FIELDS } from '../../functions/indexer/read-fields.js';
import { readNotification } from '../../functions/indexer/notification.js';
import { notifierEnvironment } from '../../local/pipeline.js';
import { loadStackTemplate, PROJECT_ROOT, readTemplateDeployment } from '../../local/stack-template.js';
import { modify, nodeImage } from '../support/records.js';
import { buildTestApp, SKIP_BUNDLING } from './helpers.js';

/**
 * The default app's effective watched fields, written out: cdk.json's nine as written, then
 * what the reference indexer reads on top of them (host, memory_mb_used, hypervisor_type,
 * free_ram_mb, free_disk_gb) in payload order. The example route reads running_vms, already watched.
 */
const DEFAULT_WATCHED =
  'vcpus,memory_mb,local_gb,vcpus_used,local_gb_used,hypervisor_hostname,disk_available_least,running_vms,current_workload,' +
  'host,memory_mb_used,hypervisor_type,free_ram_mb,free_disk_gb';

let built: BuiltApp;
let template: Template;

beforeAll(() => {
  built = buildTestApp();
  template = Template.fromStack(built.stack);
});

/** The environment of the notifier's function in the template. */
const functionEnvironmentOf = (t: Template, notifier: HypervisorNotifier): Record<string, unknown> => {
  const id = Stack.of(notifier).getLogicalId(notifier.function.node.defaultChild as CfnFunction);
  return t.toJSON().Resources[id].Properties.Environment.Variables as Record<string, unknown>;
};

function newStack(name: string): Stack {
  return new Stack(new App({ context: SKIP_BUNDLING }), name);
}

describe("the default app's notifier", () => {
  it('watches the configured fields plus every field its consumers read', () => {
    const env = functionEnvironmentOf(template, built.stack.notifier);
    expect(env.WATCHED_FIELDS).toBe(DEFAULT_WATCHED);
    for (const field of REFERENCE_INDEXER_READ_FIELDS) expect(String(env.WATCHED_FIELDS).split(',')).toContain(field);
    expect(built.stack.notifier.consumers.get("indexer route 'ReferenceIndexer'")).toEqual(
      [...REFERENCE_INDEXER_READ_FIELDS].sort((a, b) => order(a) - order(b)),
    );
  });

  it('publishes the effective list as the WatchedFields output and as the construct property', () => {
    expect(template.toJSON().Outputs.WatchedFields.Value).toBe(DEFAULT_WATCHED);
    // The construct's list is in payload order, as the function's loadConfig gives it.
    expect(built.stack.notifier.watchedFields).toEqual(loadConfig({ WATCHED_FIELDS: DEFAULT_WATCHED }).watchedFields);
    expect(built.stack.notifier.config.watchedFields).toEqual(built.stack.notifier.watchedFields);
  });

  it("notifies the change the reference indexer's view depends on (issue 10's suppressed MODIFY), and still suppresses the rest", () => {
    const build = createNotificationBuilder(loadConfig({ WATCHED_FIELDS: String(functionEnvironmentOf(template, built.stack.notifier).WATCHED_FIELDS) }));
    const before = nodeImage(7);
    const moved = nodeImage(7, { memory_mb_used: { N: '16000' }, free_ram_mb: { N: '384' }, host: { S: 'moved-host' } });
    const outcome = build(StreamRecord.parse(modify(before, moved)));
    expect(outcome.kind).toBe('notify');
    expect(outcome.kind === 'notify' && outcome.notification.changedFields).toEqual(['host', 'memory_mb_used', 'free_ram_mb']);
    // Fields no consumer reads stay unwatched.
    expect(build(StreamRecord.parse(modify(before, nodeImage(7, { hypervisor_version: { N: '6003000' }, host_ip: { S: '192.0.2.99' } })))).kind).toBe('suppressed');
  });

  it("declares every field the reference indexer reads: changing any other one leaves its stored state unchanged", () => {
    const data = {
      id: 7, uuid: '5eed0000-0000-0000-0000-000000000007', host: 'compute-7', vcpus: 8, memory_mb: 16384, local_gb: 500,
      vcpus_used: 2, memory_mb_used: 4096, local_gb_used: 40, hypervisor_type: 'QEMU', hypervisor_version: 6002000,
      hypervisor_hostname: 'compute-7.example.org', free_ram_mb: 12288, free_disk_gb: 460, current_workload: 0, running_vms: 2,
      disk_available_least: 400, host_ip: '192.0.2.10',
    } as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(Object.keys(ComputeNodePayload.fields).sort());
    const detail = (d: Record<string, unknown>) =>
      JSON.stringify({
        message_id: 'm-1', publisher_id: 'nova-compute:compute-7', event_type: 'compute_node.update', priority: 'INFO',
        timestamp: '2026-11-26 00:00:00.000000',
        payload: { 'nova_object.name': 'ComputeNodePayload', 'nova_object.namespace': 'nova', 'nova_object.version': '1.0', 'nova_object.data': d },
        change: { sequence_number: '100', changed_fields: [], origin: 'stream', cause: 'modify' },
      });
    const state = (d: Record<string, unknown>) => {
      const { dataJson: _whole, ...derived } = readNotification(detail(d)).node!;
      return derived;
    };
    // With free_ram_mb / free_disk_gb null the indexer derives them from the totals and the used amounts.
    const derivedFree = { ...data, free_ram_mb: null, free_disk_gb: null };
    // uuid is the item's key: a MODIFY never changes it, so watching it would change nothing.
    const unread = Object.keys(data).filter((f) => f !== 'uuid' && !(REFERENCE_INDEXER_READ_FIELDS as readonly string[]).includes(f));
    expect(unread).toEqual(['id', 'hypervisor_version', 'hypervisor_hostname', 'current_workload', 'running_vms', 'disk_available_least', 'host_ip']);
    for (const base of [data, derivedFree]) {
      for (const field of unread) expect(state({ ...base, [field]: 1234567 }), field).toEqual(state(base));
    }
    // And the check can fail: each read field does change the state.
    for (const field of REFERENCE_INDEXER_READ_FIELDS) {
      expect(state({ ...derivedFree, [field]: field === 'hypervisor_type' || field === 'host' ? 'other' : 1234567 }), field).not.toEqual(state(derivedFree));
    }
  });
});

const order = (f: string) => Object.keys(ComputeNodePayload.fields).indexOf(f);

describe('consumers declaring the fields they read', () => {
  it("fails synth for a route reading a field the payload does not have, naming the route and the field", () => {
    const notifier = new HypervisorNotifier(newStack('BadRoute'), 'Notifier');
    expect(() => notifier.addIndexerRoute('Billing', { readsFields: ['vcpus', 'memory_mb_usd'] })).toThrow(
      /indexer route 'Billing' reads field 'memory_mb_usd', which ComputeNodePayload does not have/,
    );
    expect(notifier.indexerRoutes.has('Billing')).toBe(false);
    // Through the props as well, and for a changedFields filter.
    expect(() => new HypervisorNotifier(newStack('BadProps'), 'Notifier', { indexerRoutes: [{ id: 'Disk', changedFields: ['disk_gb'] }] })).toThrow(
      /indexer route 'Disk' reads field 'disk_gb'/,
    );
    expect(() => notifier.declareConsumer('Capacity', ['ram'])).toThrow(/consumer 'Capacity' reads field 'ram'/);
  });

  it('includes a consumer declared after construction, from another stack of the app, and a route filtering on an unconfigured field', () => {
    const app = new App({ context: SKIP_BUNDLING });
    const stack = new Stack(app, 'Notifications');
    const notifier = new HypervisorNotifier(stack, 'Notifier', { watchedFields: ['running_vms'] });
    expect(notifier.watchedFields).toEqual(['running_vms']);
    notifier.addIndexerRoute('Disk', { changedFields: ['local_gb'] });
    // A consumer in another stack, declared once the notifier exists.
    const billing = new Stack(app, 'Billing');
    new sqs.Queue(billing, 'MeterQueue');
    notifier.declareConsumer(`${billing.stackName}/Meter`, ['memory_mb_used', 'running_vms']);
    expect(notifier.consumers.get('Billing/Meter')).toEqual(['memory_mb_used', 'running_vms']);

    expect(functionEnvironmentOf(Template.fromStack(stack), notifier).WATCHED_FIELDS).toBe('running_vms,local_gb,memory_mb_used');
    expect(notifier.watchedFields).toEqual(['local_gb', 'memory_mb_used', 'running_vms']);
    expect(() => notifier.declareConsumer('Billing/Meter', ['vcpus'])).toThrow(/consumer 'Billing\/Meter' is already declared/);
  });

  it('keeps the configured list when no consumer reads more (the spec nine by default)', () => {
    const stack = newStack('Plain');
    const notifier = new HypervisorNotifier(stack, 'Notifier');
    expect(functionEnvironmentOf(Template.fromStack(stack), notifier).WATCHED_FIELDS).toBe(SPEC_WATCHED_FIELDS.join(','));
  });
});

describe('consumers declaring a resolution', () => {
  it("gives the default app's notifier the reference indexer's resolutions: free RAM and memory used within 1 GB, the rest exact", () => {
    const env = functionEnvironmentOf(template, built.stack.notifier);
    expect(env.WATCHED_FIELD_RESOLUTIONS).toBe('memory_mb_used=1024,free_ram_mb=1024');
    expect(built.stack.notifier.fieldResolutions).toEqual({ memory_mb_used: 1024, free_ram_mb: 1024 });
    expect(built.stack.notifier.config.fieldResolutions).toEqual(loadConfig({ WATCHED_FIELDS: DEFAULT_WATCHED, WATCHED_FIELD_RESOLUTIONS: String(env.WATCHED_FIELD_RESOLUTIONS) }).fieldResolutions);
    expect(built.stack.notifier.consumerResolutions.get("indexer route 'ReferenceIndexer'")?.get('free_ram_mb')).toBe(1024);
    expect(built.stack.notifier.consumerResolutions.get("indexer route 'ReferenceIndexer'")?.get('vcpus_used')).toBeUndefined();
  });

  it('takes the finest declared resolution; a consumer reading the field exactly, or a configured watched field, keeps it exact', () => {
    const stack = newStack('Finest');
    const notifier = new HypervisorNotifier(stack, 'Notifier', { watchedFields: ['running_vms', 'local_gb_used'] });
    notifier.addIndexerRoute('Coarse', { readsFields: [{ field: 'free_ram_mb', resolution: 4096 }, { field: 'free_disk_gb', resolution: 50 }] });
    notifier.declareConsumer('Fine', [{ field: 'free_ram_mb', resolution: 512 }, { field: 'memory_mb_used', resolution: 2048 }]);
    notifier.declareConsumer('Configured', [{ field: 'local_gb_used', resolution: 100 }]);
    expect(notifier.fieldResolutions).toEqual({ memory_mb_used: 2048, free_ram_mb: 512, free_disk_gb: 50 });
    notifier.declareConsumer('Exact', ['memory_mb_used']);
    expect(notifier.fieldResolutions).toEqual({ free_ram_mb: 512, free_disk_gb: 50 });
    // A route filtering on changed_fields reads that field exactly.
    notifier.addIndexerRoute('DiskChanges', { changedFields: ['free_disk_gb'] });
    expect(notifier.fieldResolutions).toEqual({ free_ram_mb: 512 });
    const env = functionEnvironmentOf(Template.fromStack(stack), notifier);
    expect(env.WATCHED_FIELD_RESOLUTIONS).toBe('free_ram_mb=512');
    expect(loadConfig({ WATCHED_FIELDS: String(env.WATCHED_FIELDS), WATCHED_FIELD_RESOLUTIONS: String(env.WATCHED_FIELD_RESOLUTIONS) }).fieldResolutions).toEqual({ free_ram_mb: 512 });
  });

  it('sets no WATCHED_FIELD_RESOLUTIONS when every field is exact (a deployment without resolutions is unchanged)', () => {
    const stack = newStack('AllExact');
    const notifier = new HypervisorNotifier(stack, 'Notifier');
    notifier.declareConsumer('Exact', ['free_ram_mb']);
    expect(functionEnvironmentOf(Template.fromStack(stack), notifier)).not.toHaveProperty('WATCHED_FIELD_RESOLUTIONS');
  });

  it.each([
    ['a negative resolution', { field: 'free_ram_mb', resolution: -1024 }, /consumer 'Placement' reads field 'free_ram_mb' at a resolution that cannot apply: the resolution of 'free_ram_mb' must be a whole number of at least 1 .*got -1024/],
    ['a zero resolution', { field: 'free_ram_mb', resolution: 0 }, /consumer 'Placement' reads field 'free_ram_mb' .*got 0/],
    ['a fractional resolution', { field: 'memory_mb_used', resolution: 0.5 }, /consumer 'Placement' reads field 'memory_mb_used' .*got 0.5/],
    ['a resolution that is not a number', { field: 'free_ram_mb', resolution: '1024' as unknown as number }, /consumer 'Placement' reads field 'free_ram_mb' .*got "1024"/],
    ['a resolution on a text field', { field: 'host', resolution: 10 }, /consumer 'Placement' reads field 'host' at a resolution that cannot apply: field 'host' is not an integer payload field/],
    ['a resolution on a field the payload does not have', { field: 'free_ram', resolution: 10 }, /consumer 'Placement' reads field 'free_ram', which ComputeNodePayload does not have/],
  ])('fails synth for %s, naming the consumer and the field', (_what, read, message) => {
    const notifier = new HypervisorNotifier(newStack('BadResolution'), 'Notifier');
    expect(() => notifier.declareConsumer('Placement', ['vcpus_used', read])).toThrow(message);
    expect(notifier.consumers.has('Placement')).toBe(false);
    // The same rule for a route, through the props too.
    expect(() => notifier.addIndexerRoute('Placement', { readsFields: [read] })).toThrow(/indexer route 'Placement' reads field/);
    expect(() => new HypervisorNotifier(newStack('BadResolutionProps'), 'Notifier', { indexerRoutes: [{ id: 'P', readsFields: [read] }] })).toThrow(/indexer route 'P' reads field/);
  });
});

describe('the local pipeline', () => {
  it("runs the notifier with the synthesized template's effective watched fields", async () => {
    // The path `npm start` takes: synthesized from cdk.json in-process (or that synthesis, cached
    // while no source changed, as the local pipeline test also uses it); never an older template.
    mkdirSync(join(PROJECT_ROOT, '.local'), { recursive: true });
    const loaded = await loadStackTemplate({ preferCdkOut: false, cacheFile: join(PROJECT_ROOT, '.local', 'template-cache.json') });
    expect(loaded.source).toMatch(/^synthesized /);
    const deployment = readTemplateDeployment(loaded.template, loaded.stackName);
    const local = loadConfig(notifierEnvironment(deployment, { busArn: 'arn:aws:events:us-east-1:000000000000:event-bus/local', queueUrl: 'http://127.0.0.1:1/q' }));
    expect(local.watchedFields).toEqual(built.stack.notifier.watchedFields);
    expect(local.fieldResolutions).toEqual(built.stack.notifier.fieldResolutions);
    expect(local.watchedFields.join(',')).not.toBe(SPEC_WATCHED_FIELDS.join(','));
    const outputs = (loaded.template as { Outputs?: Record<string, { Value: unknown }> }).Outputs;
    expect(loadConfig({ WATCHED_FIELDS: String(outputs?.WatchedFields?.Value) }).watchedFields).toEqual(local.watchedFields);
  }, 120_000);
});

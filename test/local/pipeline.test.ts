/**
 * End to end on this machine: DynamoDB Local's real stream → the event source mapping →
 * the real notifier → the local EventBridge with the rules of the synthesized CDK template
 * → the indexer sink; rejected records → the SQS stand-in. One DynamoDB Local for the file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DETAIL_SCHEMAS, type EventType } from '../../functions/notifier/contract/index.js';
import { METRIC } from '../../functions/notifier/metric-names.js';
import { startLocalPipeline, QUARANTINE_QUEUE, type LocalPipeline } from '../../local/pipeline.js';
import { PROJECT_ROOT, type TemplateDeployment } from '../../local/stack-template.js';
import { FleetSimulator } from '../../local/fleet-simulator.js';
import type { LambdaStreamRecord } from '../../local/lambda-stream-record.js';
import type { DeliveredEvent } from '../../local/targets.js';
import { waitFor } from './support.js';

let pipeline: LocalPipeline | undefined;
let runDir: string;
let deployment: TemplateDeployment;
const events: DeliveredEvent[] = [];
const records: LambdaStreamRecord[] = [];

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'local-pipeline-'));
  mkdirSync(join(PROJECT_ROOT, '.local'), { recursive: true });
  // The template of the bundled stack (synthesized while DynamoDB Local starts; cached between runs).
  pipeline = await startLocalPipeline({
    runDirectory: runDir,
    templateCacheFile: join(PROJECT_ROOT, '.local', 'template-cache.json'),
    logLevel: 'SILENT',
    onEvent: (e) => void events.push(e),
    onRecords: (r) => void records.push(...r),
  });
  deployment = pipeline.deployment;
});

afterAll(async () => {
  // Runs even when a test failed: no Java process is left behind.
  await pipeline?.stop();
  rmSync(runDir, { recursive: true, force: true });
});

const p = () => pipeline!;

let nextId = 100;
function uuid(): string {
  nextId++;
  return `5eed0000-0000-4000-8000-${String(nextId).padStart(12, '0')}`;
}

function node(id: string, overrides: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  return {
    id: { N: String(nextId) },
    uuid: { S: id },
    host: { S: `compute-${nextId}` },
    vcpus: { N: '64' },
    memory_mb: { N: '262144' },
    local_gb: { N: '3576' },
    vcpus_used: { N: '8' },
    memory_mb_used: { N: '17000' },
    local_gb_used: { N: '160' },
    hypervisor_type: { S: 'QEMU' },
    hypervisor_version: { N: '8000000' },
    hypervisor_hostname: { S: `compute-${nextId}.example.org` },
    free_ram_mb: { N: String(262144 - 17000) },
    free_disk_gb: { N: String(3576 - 160) },
    current_workload: { N: '0' },
    running_vms: { N: '2' },
    disk_available_least: { N: '3400' },
    host_ip: { S: '10.0.0.7' },
    deleted: { N: '0' },
    ...overrides,
  };
}

const put = (item: Record<string, AttributeValue>) => p().ddb.send(new PutItemCommand({ TableName: p().tableName, Item: item }));

const eventsFor = (id: string) =>
  events.filter((e) => ((e.detail.payload as Record<string, Record<string, unknown>>)['nova_object.data']!.uuid as string) === id);
const recordsFor = (id: string) => records.filter((r) => r.dynamodb.Keys?.uuid?.S === id);
const change = (e: DeliveredEvent) => e.detail.change as { sequence_number: string; changed_fields: string[]; cause: string; origin: string };

describe('the local pipeline', () => {
  it('takes its rules, notifier environment and mapping settings from the synthesized template', () => {
    expect(deployment.rules.length).toBeGreaterThan(0);
    expect(p().eventBus.ruleNames).toEqual(deployment.rules.filter((r) => r.enabled).map((r) => r.name));
    expect(p().notifierConfig.eventSource).toBe(deployment.functionEnvironment.EVENT_SOURCE);
    expect(p().mapping.batchSize).toBe(deployment.eventSourceMapping?.batchSize);
    expect(p().notifierConfig.quarantineQueueUrl).toBe(p().quarantineQueueUrl);
  });

  it('turns an INSERT into compute_node.create, delivered as EventBridge delivers it', async () => {
    const id = uuid();
    await put(node(id));
    const [event] = await waitFor(() => eventsFor(id).length === 1 && eventsFor(id), 'the create notification');
    expect(event!['detail-type']).toBe('compute_node.create');
    expect(event!.source).toBe(p().notifierConfig.eventSource);
    expect(change(event!)).toMatchObject({ cause: 'insert', origin: 'stream', changed_fields: [] });
    expect(DETAIL_SCHEMAS['compute_node.create'].safeParse(event!.detail).error).toBeUndefined();
    // The record the notifier saw was Lambda-shaped.
    const [record] = recordsFor(id);
    expect(record!.eventSourceARN).toBe(p().streamArn);
    expect(typeof record!.dynamodb.ApproximateCreationDateTime).toBe('number');
  });

  it('suppresses an update of unwatched fields only, and notifies a watched change with its changed fields', async () => {
    const id = uuid();
    await put(node(id));
    await waitFor(() => eventsFor(id).length === 1, 'the create notification');
    const suppressedBefore = p().metrics.total(METRIC.updatesSuppressed);
    // Only hypervisor_version and host_ip change: not watched, and read by no consumer of the template.
    const unwatched = { hypervisor_version: { N: '8001000' }, host_ip: { S: '10.0.0.8' } };
    expect(p().notifierConfig.watchedFields).not.toContain('hypervisor_version');
    expect(p().notifierConfig.watchedFields).not.toContain('host_ip');
    await put(node(id, unwatched));
    // Then a watched change: vcpus_used and running_vms.
    await put(node(id, { ...unwatched, vcpus_used: { N: '12' }, running_vms: { N: '3' } }));
    const list = await waitFor(() => eventsFor(id).length === 2 && eventsFor(id), 'the update notification');
    // Records of one item arrive in order, so the unwatched MODIFY was handled before this one.
    const modifies = recordsFor(id).filter((r) => r.eventName === 'MODIFY');
    expect(modifies).toHaveLength(2);
    expect(list.map((e) => change(e).sequence_number)).not.toContain(modifies[0]!.dynamodb.SequenceNumber);
    // The notifier counts its metrics when the invocation ends, after the bus has the event.
    await waitFor(() => p().metrics.total(METRIC.updatesSuppressed) > suppressedBefore, 'the suppressed update to be counted');
    const update = list[1]!;
    expect(update['detail-type']).toBe('compute_node.update');
    expect(change(update)).toMatchObject({ cause: 'modify', changed_fields: ['vcpus_used', 'running_vms'], sequence_number: modifies[1]!.dynamodb.SequenceNumber });
  });

  it('routes by the rule from the template to its target: the update whose running_vms changed, not the create', async () => {
    const rule = deployment.rules.find((r) => JSON.stringify(r.eventPattern).includes('running_vms'));
    expect(rule, 'the bundled stack has an indexer route on running_vms').toBeDefined();
    const target = rule!.targets[0]!.name;
    const id = uuid();
    await put(node(id));
    await put(node(id, { vcpus_used: { N: '9' } })); // an update, but running_vms unchanged
    await put(node(id, { vcpus_used: { N: '9' }, running_vms: { N: '5' } }));
    await waitFor(() => eventsFor(id).length === 3, 'three notifications');
    const routed = await waitFor(() => {
      const d = p().indexer.deliveries(target).filter((x) => eventsFor(id).some((e) => e.id === x.event.id));
      return d.length === 1 && d;
    }, 'the routed delivery');
    expect(routed[0]!.rule).toBe(rule!.name);
    expect(routed[0]!.event['detail-type']).toBe('compute_node.update');
    expect(change(routed[0]!.event).changed_fields).toContain('running_vms');
    // The delivery is in the JSONL file too, with the event's text.
    await waitFor(() => readFileSync(p().files.events, 'utf8').includes(routed[0]!.event.id), 'the delivery in events.jsonl');
  });

  it('soft delete → compute_node.delete (soft_delete); hard delete of a live node → delete (remove); of a soft-deleted one → nothing', async () => {
    const soft = uuid();
    await put(node(soft));
    const hard = uuid();
    await put(node(hard));
    await waitFor(() => eventsFor(soft).length === 1 && eventsFor(hard).length === 1, 'both creates');
    await p().ddb.send(
      new UpdateItemCommand({ TableName: p().tableName, Key: { uuid: { S: soft } }, UpdateExpression: 'SET deleted = :d', ExpressionAttributeValues: { ':d': { N: '7' } } }),
    );
    await p().ddb.send(new DeleteItemCommand({ TableName: p().tableName, Key: { uuid: { S: hard } } }));
    await waitFor(() => eventsFor(soft).length === 2 && eventsFor(hard).length === 2, 'both deletes');
    expect(eventsFor(soft)[1]!['detail-type']).toBe('compute_node.delete');
    expect(change(eventsFor(soft)[1]!).cause).toBe('soft_delete');
    expect(eventsFor(hard)[1]!['detail-type']).toBe('compute_node.delete');
    expect(change(eventsFor(hard)[1]!).cause).toBe('remove');
    expect(DETAIL_SCHEMAS['compute_node.delete'].safeParse(eventsFor(hard)[1]!.detail).error).toBeUndefined();

    // Purging the soft-deleted row: a REMOVE the notifier ignores. A later write proves it was handled.
    await p().ddb.send(new DeleteItemCommand({ TableName: p().tableName, Key: { uuid: { S: soft } } }));
    await put(node(soft));
    await waitFor(() => eventsFor(soft).length === 3, 'the re-create after the purge');
    expect(recordsFor(soft).map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE', 'INSERT']);
    expect(eventsFor(soft).map((e) => e['detail-type'])).toEqual(['compute_node.create', 'compute_node.delete', 'compute_node.create']);
  });

  it('quarantines an invalid record with its reason, through the SQS stand-in, and in quarantine.jsonl', async () => {
    const id = uuid();
    await put(node(id, { vcpus: { N: '47.5' } }));
    const message = await waitFor(
      () => p().sqs.messages(QUARANTINE_QUEUE).find((m) => m.body.includes(id)),
      'the quarantined record',
    );
    const body = JSON.parse(message.body) as { reason: string; issues: { field: string; rule: string }[]; eventSourceARN: string; record: LambdaStreamRecord };
    expect(body.reason).toBe('invalid_record');
    expect(body.issues.map((i) => i.field)).toEqual(['vcpus']);
    expect(body.issues[0]!.rule).toMatch(/integer/);
    expect(body.eventSourceARN).toBe(p().streamArn);
    expect(body.record.dynamodb.NewImage?.vcpus).toEqual({ N: '47.5' });
    expect(eventsFor(id)).toEqual([]);
    await waitFor(() => readFileSync(p().files.quarantine, 'utf8').includes(id), 'the message in quarantine.jsonl');
  });

  it('keeps the order key increasing per node: detail.change.sequence_number, compared as BigInt', async () => {
    const id = uuid();
    await put(node(id));
    for (let i = 1; i <= 6; i++) await put(node(id, { vcpus_used: { N: String(8 + i) }, running_vms: { N: String(2 + i) } }));
    const list = await waitFor(() => eventsFor(id).length === 7 && eventsFor(id), 'seven notifications');
    const seqs = list.map((e) => BigInt(change(e).sequence_number));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]! > seqs[i - 1]!, `${seqs[i]} > ${seqs[i - 1]}`).toBe(true);
    expect(list.map((e) => e['detail-type'] as EventType)).toEqual(['compute_node.create', ...Array<EventType>(6).fill('compute_node.update')]);
  });

  it('carries a simulated fleet through: every node created, notifications flowing', async () => {
    const fleet = new FleetSimulator({ client: p().ddb, tableName: p().tableName, nodes: 5, seed: 3, onWrite: (w) => p().stats.noteWrite(w) });
    for (let i = 0; i < 40; i++) await fleet.step();
    await fleet.stop();
    for (const id of fleet.nodeIds) await waitFor(() => eventsFor(id).length > 0, `a notification for fleet node ${id}`);
    expect(fleet.stats.writes).toBeGreaterThan(5);
    expect(p().stats.latency().samples).toBeGreaterThan(0);
  });
});

/**
 * The contract's guard rails, after Nova's test_notification.py: each payload's fields and
 * types are fingerprinted, and a change without a version bump fails here.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import {
  CHANGE_BLOCK_VERSION,
  ChangeBlock,
  ComputeNodeDeletePayload,
  ComputeNodePayload,
  DETAIL_SCHEMAS,
  detailJsonSchemas,
  EVENT_TYPES,
  RESYNC_RUN_EVENT_VERSION,
  ResyncRunDetail,
  resyncRunJsonSchema,
  schemaFingerprint,
  type PayloadDefinition,
} from '../../functions/notifier/contract/index.js';
import { definePayload } from '../../functions/notifier/contract/payload-definition.js';
import { IntegerField, StringField } from '../../functions/notifier/contract/nova-fields.js';

// When a fingerprint changes: bump the payload's version, add a line to its version
// history, and only then update the hash here (as Nova's object_data table works).
const EXPECTED_FINGERPRINTS: Record<string, string> = {
  ComputeNodePayload: '1.0-29ab485bb10c3daddeebe290efe95b2c',
  ComputeNodeDeletePayload: '1.0-eb2fde1c086027b8a09ebc260afa2f51',
};

const PAYLOADS: PayloadDefinition[] = [ComputeNodePayload, ComputeNodeDeletePayload];

describe('payload versions', () => {
  it.each(PAYLOADS.map((p) => [p.name, p] as const))('%s matches its recorded fingerprint', (name, payload) => {
    expect(payload.fingerprint, `${name} changed: bump its version and history, then record the new fingerprint`).toBe(EXPECTED_FINGERPRINTS[name]);
  });

  it('a change of field type or a new field changes the fingerprint', () => {
    const base = definePayload({ name: 'P', version: '1.0', fields: { a: IntegerField() }, source: { a: ['compute_node', 'a'] } });
    const retyped = definePayload({ name: 'P', version: '1.0', fields: { a: StringField() }, source: { a: ['compute_node', 'a'] } });
    const nullable = definePayload({ name: 'P', version: '1.0', fields: { a: IntegerField({ nullable: true }) }, source: { a: ['compute_node', 'a'] } });
    const added = definePayload({
      name: 'P',
      version: '1.0',
      fields: { a: IntegerField(), b: IntegerField() },
      source: { a: ['compute_node', 'a'], b: ['compute_node', 'b'] },
    });
    expect(new Set([base, retyped, nullable, added].map((p) => p.fingerprint)).size).toBe(4);
  });

  it("keeps Nova's field order, the spec's", () => {
    expect(Object.keys(ComputeNodePayload.fields)).toEqual([
      'id', 'uuid', 'host', 'vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used',
      'hypervisor_type', 'hypervisor_version', 'hypervisor_hostname', 'free_ram_mb', 'free_disk_gb',
      'current_workload', 'running_vms', 'disk_available_least', 'host_ip',
    ]);
    expect(Object.keys(ComputeNodeDeletePayload.fields)).toEqual(['id', 'uuid']);
  });
});

// The same for our own blocks: bump the version in the source file, add a history line there,
// then record the new hash here.
const EXPECTED_BLOCK_FINGERPRINTS = {
  change: '2-9a027de33ac3eea7320307024bd8b976',
  resyncRunEvent: '1-86e248b69533c82cb60e261f61eae3dc',
};

describe('versions of our own blocks: change, resync run event', () => {
  it('the change block matches its recorded fingerprint', () => {
    expect(schemaFingerprint(CHANGE_BLOCK_VERSION, ChangeBlock), 'the change block changed: bump CHANGE_BLOCK_VERSION and its history').toBe(EXPECTED_BLOCK_FINGERPRINTS.change);
  });

  it('the resync run event matches its recorded fingerprint', () => {
    expect(schemaFingerprint(RESYNC_RUN_EVENT_VERSION, ResyncRunDetail), 'the resync run event changed: bump RESYNC_RUN_EVENT_VERSION and its history').toBe(
      EXPECTED_BLOCK_FINGERPRINTS.resyncRunEvent,
    );
  });

  it('a new key, a retyped key, a nullable key or reordered keys change the fingerprint', () => {
    const base = zm.strictObject({ a: zm.string(), b: zm.number() });
    const variants = [
      base,
      zm.strictObject({ a: zm.string(), b: zm.number(), c: zm.string() }),
      zm.strictObject({ a: zm.string(), b: zm.string() }),
      zm.strictObject({ a: zm.string(), b: zm.nullable(zm.number()) }),
      zm.strictObject({ b: zm.number(), a: zm.string() }),
    ];
    expect(new Set(variants.map((v) => schemaFingerprint(1, v))).size).toBe(variants.length);
    // A change of the real block (a key added) is caught, and so is one of its enums.
    expect(schemaFingerprint(CHANGE_BLOCK_VERSION, zm.extend(ChangeBlock, { extra: zm.string() }))).not.toBe(EXPECTED_BLOCK_FINGERPRINTS.change);
    expect(schemaFingerprint(CHANGE_BLOCK_VERSION, zm.extend(ChangeBlock, { origin: zm.enum(['stream', 'resync', 'replay']) }))).not.toBe(EXPECTED_BLOCK_FINGERPRINTS.change);
  });

  it('keeps the change block\'s keys in wire order', () => {
    expect(Object.keys(ChangeBlock.shape)).toEqual(['sequence_number', 'epoch', 'changed_fields', 'origin', 'cause', 'resync_run']);
  });

  it('the resync run event accepts the two phases and refuses a mixed one', () => {
    const start = { run_id: '0b7c2d7e-41b5-4f0e-9d8e-3f6a1c2b9e01', phase: 'start', started_at: '2026-11-26 19:06:02.123000', table: 'compute-nodes' };
    const end = { run_id: start.run_id, phase: 'end', started_at: start.started_at, refreshed: 3 };
    expect(ResyncRunDetail.safeParse(start).success).toBe(true);
    expect(ResyncRunDetail.safeParse(end).success).toBe(true);
    expect(ResyncRunDetail.safeParse({ ...end, table: 't' }).success).toBe(false);
    expect(ResyncRunDetail.safeParse({ ...end, refreshed: -1 }).success).toBe(false);
    expect(ResyncRunDetail.safeParse({ ...start, started_at: '2026-11-26T19:06:02Z' }).success).toBe(false);
  });
});

describe('JSON Schemas for the schema registry', () => {
  const schemas = detailJsonSchemas();

  it('has one per detail type and payload version, in draft 4', () => {
    expect(schemas.map((s) => s.schemaName)).toEqual([
      'compute_node.create@ComputeNodePayload-1.0',
      'compute_node.update@ComputeNodePayload-1.0',
      'compute_node.delete@ComputeNodeDeletePayload-1.0',
    ]);
    for (const s of schemas) expect(s.jsonSchema.$schema).toBe('http://json-schema.org/draft-04/schema#');
  });

  it('describes Nova integers as unbounded integers and nullable fields as nullable', () => {
    const data = (schemas[0]!.jsonSchema as any).properties.payload.properties['nova_object.data']; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking generated JSON
    expect(data.properties.vcpus).toEqual({ type: 'integer' });
    expect(data.properties.free_ram_mb).toEqual({ type: ['integer', 'null'] });
    expect(data.properties.hypervisor_type).toEqual({ type: 'string' });
    expect(data.properties.host_ip.anyOf[1]).toEqual({ type: 'null' });
    expect(data.required).toEqual(Object.keys(ComputeNodePayload.fields));
    expect(data.additionalProperties).toBe(false);
  });

  it('includes the change block (version 2) in every detail schema', () => {
    for (const s of schemas) {
      const change = (s.jsonSchema as { properties: { change: { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean } } }).properties.change;
      expect(change.required).toEqual(['sequence_number', 'epoch', 'changed_fields', 'origin', 'cause', 'resync_run']);
      expect(change.properties.epoch).toEqual({ anyOf: [{ type: 'string', minLength: 1 }, { type: 'null' }] });
      expect(change.properties.resync_run).toEqual({ anyOf: [{ type: 'string', minLength: 1 }, { type: 'null' }] });
      expect(change.additionalProperties).toBe(false);
      expect(s.changeVersion).toBe(2);
    }
  });

  it('publishes the resync run event too, with both phases', () => {
    const control = resyncRunJsonSchema();
    expect(control.schemaName).toBe('hypervisor_notifier.resync_run@1');
    const variants = (control.jsonSchema as { oneOf: Array<{ properties: { phase: { enum: string[] } }; required: string[] }> }).oneOf;
    expect(variants.map((v) => [v.properties.phase.enum, v.required])).toEqual([
      [['start'], ['run_id', 'phase', 'started_at', 'table']],
      [['end'], ['run_id', 'phase', 'started_at', 'refreshed']],
    ]);
  });

  it('agrees with the zod schemas the function is tested with', () => {
    for (const t of EVENT_TYPES) {
      const fromZod = z.toJSONSchema(DETAIL_SCHEMAS[t], { target: 'draft-4' }) as { required: string[] };
      const ours = schemas.find((s) => s.detailType === t)!.jsonSchema as { required: string[] };
      expect(ours.required).toEqual(fromZod.required);
    }
  });
});

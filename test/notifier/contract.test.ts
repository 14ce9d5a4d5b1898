/**
 * The contract's guard rails, after Nova's test_notification.py: each payload's fields and
 * types are fingerprinted, and a change without a version bump fails here.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ComputeNodeDeletePayload,
  ComputeNodePayload,
  DETAIL_SCHEMAS,
  detailJsonSchemas,
  EVENT_TYPES,
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

  it('agrees with the zod schemas the function is tested with', () => {
    for (const t of EVENT_TYPES) {
      const fromZod = z.toJSONSchema(DETAIL_SCHEMAS[t], { target: 'draft-4' }) as { required: string[] };
      const ours = schemas.find((s) => s.detailType === t)!.jsonSchema as { required: string[] };
      expect(ours.required).toEqual(fromZod.required);
    }
  });
});

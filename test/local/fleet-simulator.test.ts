/**
 * The fleet simulator's writes (unit level, a recording client instead of DynamoDB):
 * deterministic for a seed, complete ComputeNode items, and the mix the pipeline needs.
 */
import { describe, expect, it } from 'vitest';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FleetSimulator, type FleetWrite } from '../../local/fleet-simulator.js';
import { ComputeNodePayload } from '../../functions/notifier/contract/index.js';

function recordingClient() {
  const commands: { op: string; input: unknown }[] = [];
  const client = {
    send: async (command: unknown) => {
      const op = command instanceof PutItemCommand ? 'put' : command instanceof UpdateItemCommand ? 'update' : command instanceof DeleteItemCommand ? 'delete' : 'other';
      commands.push({ op, input: (command as { input: unknown }).input });
      return {};
    },
  };
  return { commands, client: client as unknown as DynamoDBClient };
}

async function run(seed: number, ticks: number) {
  const { commands, client } = recordingClient();
  const writes: FleetWrite[] = [];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const fleet = new FleetSimulator({ client, tableName: 't', nodes: 20, seed, onWrite: (w) => void writes.push(w), now: () => (clock += 7) });
  for (let i = 0; i < ticks; i++) await fleet.step();
  return { commands, writes, fleet };
}

describe('FleetSimulator', () => {
  it('writes the same sequence for the same seed, and another for another seed', async () => {
    const a = await run(42, 300);
    const b = await run(42, 300);
    const c = await run(43, 300);
    expect(JSON.stringify(a.commands)).toBe(JSON.stringify(b.commands));
    expect(JSON.stringify(a.commands)).not.toBe(JSON.stringify(c.commands));
  });

  it('creates the fleet with every ComputeNode field, as realistic values', async () => {
    const { commands } = await run(1, 1);
    const puts = commands.filter((c) => c.op === 'put').map((c) => (c.input as { Item: Record<string, Record<string, string>> }).Item);
    expect(puts).toHaveLength(20);
    for (const item of puts) {
      for (const field of Object.keys(ComputeNodePayload.fields)) expect(item, field).toHaveProperty(field);
      expect(Number(item.vcpus_used!.N)).toBeLessThanOrEqual(Number(item.vcpus!.N));
      expect(Number(item.free_ram_mb!.N)).toBe(Number(item.memory_mb!.N) - Number(item.memory_mb_used!.N));
      expect(item.deleted).toEqual({ N: '0' });
      expect(item.uuid!.S).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(puts.map((i) => i.uuid!.S)).size).toBe(20);
  });

  it('over time writes every kind: reports, no-ops, instance churn, invalid writes and their repair, soft and hard deletes', async () => {
    const { writes, fleet } = await run(7, 1200);
    const kinds = new Set(writes.map((w) => w.kind));
    for (const kind of ['create', 'report', 'noop', 'boot', 'settle', 'terminate', 'invalid', 'repair', 'soft_delete', 'hard_delete'] as const) expect(kinds, kind).toContain(kind);
    // Most writes change nothing a consumer watches.
    const watched = writes.filter((w) => w.kind === 'boot' || w.kind === 'settle' || w.kind === 'terminate').length;
    expect(watched / writes.length).toBeLessThan(0.35);
    expect(fleet.nodeIds).toHaveLength(20);
  });

  it('writes a fraction into vcpus for an invalid write', async () => {
    const { commands, writes } = await run(7, 1200);
    const invalid = writes.filter((w) => w.kind === 'invalid');
    expect(invalid.length).toBeGreaterThan(0);
    const items = commands.filter((c) => c.op === 'put').map((c) => (c.input as { Item: Record<string, { N?: string; S?: string }> }).Item);
    const fractions = items.filter((i) => !/^\d+$/.test(i.vcpus!.N!));
    expect(fractions.map((i) => i.uuid!.S)).toEqual(invalid.map((w) => w.uuid));
    for (const i of fractions) expect(i.vcpus!.N).toMatch(/^\d+\.5$/);
  });
});

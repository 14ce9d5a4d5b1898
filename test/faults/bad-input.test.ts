/**
 * Bad input at the handler level: every kind of invalid image (catalogue in `bad-input.ts`),
 * records without images, and records that are not stream records at all, mixed into
 * ordinary traffic. One bad record must never hold up the others: each is quarantined with
 * its reason (or, for a stream without images, the invocation fails and the record ends in
 * the on-failure destination), and everything around it is notified.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../local/seeded-random.js';
import { addBrokenRecords, BAD_INPUT_CASES, writeBadInput } from './bad-input.js';
import { checkInvariants, describeReport } from './invariants.js';
import { FakeTable, LambdaRuntime, observeFake, randomWorkload, runShard, startLocalServices } from './support.js';

describe('bad input', () => {
  it('quarantines every kind of invalid image with its reason, and notifies everything around it', async () => {
    const s = await startLocalServices();
    const runtime = new LambdaRuntime({ config: s.config(), busEndpoint: s.bus.endpoint, sqsEndpoint: s.sqs.endpoint });
    try {
      const table = new FakeTable();
      // Ordinary traffic before, between and after.
      const random = seededRandom(31);
      await randomWorkload(table, { nodes: 10, writes: 60, random, firstNode: 1 });
      await writeBadInput(table, { firstNode: 100 });
      addBrokenRecords(table);
      await randomWorkload(table, { nodes: 10, writes: 60, random, firstNode: 1 });
      // Bounded retries: a record that fails its invocation every time must end in the on-failure destination.
      const run = await runShard(table.records, runtime.handler, { batchSize: 25, maxRetries: 2 });
      const report = checkInvariants(observeFake('bad input', table, s, run), { recordExpectations: table.expectations });
      expect(report.violations, describeReport(report)).toEqual([]);
      // Every case was exercised: each invalid one quarantined (twice: as a change and as a new node).
      const reasons = s.quarantined().map((b) => JSON.parse(b) as { reason: string; errorCode?: string; issues?: { field: string; rule: string }[] });
      const invalidCases = BAD_INPUT_CASES.filter((c) => c.problems?.invalid !== undefined).length;
      expect(reasons.filter((m) => m.reason === 'invalid_record').length).toBeGreaterThanOrEqual(2 * invalidCases);
      expect(new Set(reasons.map((m) => m.errorCode).filter((c) => c !== undefined))).toEqual(new Set(['MalformedDetail', 'EntryTooLarge']));
      expect(reasons.flatMap((m) => m.issues ?? []).find((i) => i.field === 'hypervisor_hostname')?.rule).toMatch(/valid Unicode/);
      // Only the two records of streams without images went to the on-failure destination; the
      // records that shared their batches were delivered.
      expect(report.onFailure).toBe(2);
      expect(run.onFailure.flatMap((f) => f.records.map((r) => r.eventID)).sort()).toEqual(
        [...table.expectations].filter(([, e]) => e.kind === 'on_failure').map(([id]) => id).sort(),
      );
      expect(report.lost).toBe(0);
    } finally {
      runtime.close();
      await s.close();
    }
  });
});

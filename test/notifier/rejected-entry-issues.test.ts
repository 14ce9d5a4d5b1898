/**
 * EventBridge refuses a JSON integer outside 64 bits (PutEvents API reference: "For the JSON
 * number (integer) data type, the constraints are: a minimum value of
 * -9,223,372,036,854,775,808 and a maximum value of 9,223,372,036,854,775,807") with the
 * per-entry code `MalformedDetail`, whose message names no field. Nova writes such an integer
 * as it is (shared/nova-reference vector 32), so the notifier sends it and quarantines the
 * refused record; the quarantine message must still say which field, with its value and the
 * rule, as for an invalid record. Before: only EventBridge's code and message.
 */
import { describe, expect, it } from 'vitest';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { allQueued, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, remove } from '../support/records.js';

const HUGE = '1' + '0'.repeat(30);
const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

/** A bus that refuses, as EventBridge does, every entry whose detail holds an integer outside 64 bits. */
function busRefusingBigIntegers(h: ReturnType<typeof harness>): void {
  h.eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
    const entries = input.Entries.map((e) => {
      const tooBig = (e.Detail.match(/-?\d+/g) ?? []).some((n) => BigInt(n) > BigInt(INT64_MAX) || BigInt(n) < BigInt(INT64_MIN));
      return tooBig ? { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } : { EventId: 'x' };
    });
    return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
  });
  h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
}

describe('an entry EventBridge refuses for an integer outside 64 bits', () => {
  it('is quarantined naming each such field with its value and the rule', async () => {
    const h = harness();
    busRefusingBigIntegers(h);
    const record = insert(nodeImage(1, { free_disk_gb: { N: HUGE }, disk_available_least: { N: `-${HUGE}` } }));
    const response = await h.invoke([record, insert(nodeImage(2, { free_disk_gb: { N: INT64_MAX }, disk_available_least: { N: INT64_MIN } }))]);
    expect(response.batchItemFailures).toEqual([]);
    const [message, ...others] = h.quarantined();
    expect(others).toEqual([]);
    expect(message).toMatchObject({ reason: 'event_rejected', errorCode: 'MalformedDetail', eventID: record.eventID });
    const issues = message!.issues as { field: string; value: unknown; rule: string }[];
    expect(issues.map((i) => i.field)).toEqual(['free_disk_gb', 'disk_available_least']);
    expect(issues[0]!.value).toEqual({ N: HUGE });
    expect(issues[1]!.value).toEqual({ N: `-${HUGE}` });
    for (const i of issues) expect(i.rule).toMatch(/-9223372036854775808.*9223372036854775807/);
  });

  it("a delete names only what a delete's payload carries (id), from the image it was built from", async () => {
    const h = harness();
    busRefusingBigIntegers(h);
    const old = nodeImage(3, { id: { N: HUGE }, free_disk_gb: { N: HUGE } });
    await h.invoke([remove(old), modify(nodeImage(4, { free_ram_mb: { N: HUGE } }), nodeImage(4, { free_ram_mb: { N: HUGE }, deleted: { N: '4' } }))]);
    const quarantined = h.quarantined();
    expect(quarantined).toHaveLength(1);
    expect((quarantined[0]!.issues as { field: string }[]).map((i) => i.field)).toEqual(['id']);
  });
});

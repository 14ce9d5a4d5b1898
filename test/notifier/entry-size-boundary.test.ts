/**
 * PutEvents' size limit at its edge: "The total entry size must be less than 256KB", counted as
 * 14 bytes for Time plus the UTF-8 bytes of Source, DetailType and Detail (EventBridge user guide,
 * "Calculating PutEvents event entry size"). An entry of 262,143 bytes is sent, one of 262,144 is
 * quarantined without being sent; two entries share a request only while their sum stays under
 * the limit. Multi-byte text is counted in UTF-8 bytes, not in UTF-16 code units.
 */
import { describe, expect, it } from 'vitest';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, nodeImage } from '../support/records.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';

const LIMIT = 256 * 1024;

/** What EventBridge counts for an entry, written out from AWS's page (not the notifier's entrySize). */
const awsCount = (e: { Time?: Date; Source?: string; DetailType?: string; Detail?: string }) =>
  (e.Time === undefined ? 0 : 14) + Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '');

/** An INSERT whose entry EventBridge would count as exactly `bytes`, padding the hostname with `pad` (1 to 3 UTF-8 bytes a character). */
function insertOfSize(n: number, bytes: number, config: Parameters<typeof createNotificationBuilder>[0], pad = 'x') {
  const build = createNotificationBuilder(config);
  // The sequence number is in the detail: the one measured is the one sent.
  const sequence = String(700_000 + n).padStart(21, '0');
  const sizeWith = (hostname: string) => {
    const outcome = build(StreamRecord.parse(insert(nodeImage(n, { hypervisor_hostname: { S: hostname } }), { sequence })));
    if (outcome.kind !== 'notify') throw new Error(outcome.kind);
    return awsCount(outcome.notification.entry);
  };
  const unit = Buffer.byteLength(pad);
  const base = sizeWith('');
  const count = Math.floor((bytes - base) / unit);
  const hostname = pad.repeat(count) + 'y'.repeat(bytes - base - count * unit);
  expect(sizeWith(hostname)).toBe(bytes);
  return insert(nodeImage(n, { hypervisor_hostname: { S: hostname } }), { sequence });
}

describe('the 256 KB limit at its edge', () => {
  for (const pad of ['x', 'é', 'ノ']) {
    it(`sends an entry of ${LIMIT - 1} bytes and quarantines one of ${LIMIT} (hostname of '${pad}')`, async () => {
      const h = harness();
      h.eb.on(PutEventsCommand).callsFake(allAccepted);
      h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
      const fits = insertOfSize(1, LIMIT - 1, h.config, pad);
      const over = insertOfSize(2, LIMIT, h.config, pad);
      const response = await h.invoke([fits, over]);
      expect(response.batchItemFailures).toEqual([]);
      expect(h.sentEntries().map((e) => [JSON.parse(e.Detail!).payload['nova_object.data'].id, awsCount(e)])).toEqual([[1, LIMIT - 1]]);
      expect(h.quarantined().map((m) => [m.eventID, m.errorCode])).toEqual([[over.eventID, 'EntryTooLarge']]);
    });
  }

  it('puts two entries in one request while their sum is under the limit, in two once it reaches it', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const half = Math.floor((LIMIT - 1) / 2);
    await h.invoke([insertOfSize(1, half, h.config), insertOfSize(2, LIMIT - 1 - half, h.config)]);
    await h.invoke([insertOfSize(3, half, h.config), insertOfSize(4, LIMIT - half, h.config)]);
    const requests = h.eb.commandCalls(PutEventsCommand).map((c) => (c.args[0].input.Entries ?? []).map(awsCount));
    expect(requests).toEqual([[half, LIMIT - 1 - half], [half], [LIMIT - half]]);
    for (const r of requests) expect(r.reduce((a, b) => a + b, 0)).toBeLessThan(LIMIT);
  });
});

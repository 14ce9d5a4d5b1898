/**
 * Records that did not come from Lambda (a file for `cli redrive --file`, `cli render`, a
 * quarantined record edited by hand) may hold anything where an attribute value belongs: `null`,
 * an array, a number. Each must end as a notification, a suppressed or ignored change, or an
 * invalid record naming the field and the rule: never a thrown error, which fails the whole
 * batch again on every try (before: a MODIFY whose new image had `resync_run: null` threw a
 * TypeError in the resync marker check).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { classifyRecord } from '../../functions/notifier/batch-processor.js';
import { HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE, RESYNC_MARKER_ATTRIBUTE, SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, remove } from '../support/records.js';

const REGION_ATTRIBUTE = 'written_in';
const config = { eventBusName: 'bus', eventSource: 'openstack.nova', watchedFields: SPEC_WATCHED_FIELDS, publisherHostFallback: 'fallback' };
const builders = [createNotificationBuilder(config), createNotificationBuilder({ ...config, writerRegion: { attribute: REGION_ATTRIBUTE, region: 'us-east-1' } })];

// Every attribute the notifier reads: the payload's, the soft delete's, the marker, the writer region's, the heartbeat's.
const ATTRIBUTES = [...Object.keys(nodeImage(1)), 'deleted', RESYNC_MARKER_ATTRIBUTE, REGION_ATTRIBUTE, HEARTBEAT_WRITTEN_AT_ATTRIBUTE];
const anything = fc.oneof(fc.jsonValue(), fc.constantFrom(null, [], {}, 0, '', { S: null }, { N: 5 }, { NULL: false }, { S: 'x', N: '1' }));
const edit = fc.tuple(fc.constantFrom(...ATTRIBUTES), anything);

describe('records with anything where an attribute value belongs', () => {
  it('property: never throw; an invalid one names each field and rule', () => {
    fc.assert(
      fc.property(fc.constantFrom('INSERT', 'MODIFY', 'REMOVE'), fc.array(edit, { maxLength: 3 }), fc.array(edit, { maxLength: 3 }), fc.boolean(), fc.nat(1), (kind, oldEdits, newEdits, heartbeat, which) => {
        const oldImage = { ...nodeImage(1), ...Object.fromEntries(oldEdits) } as never;
        const newImage = { ...nodeImage(1), ...Object.fromEntries(newEdits) } as never;
        const record = kind === 'INSERT' ? insert(newImage) : kind === 'MODIFY' ? modify(oldImage, newImage) : remove(oldImage);
        if (heartbeat) record.dynamodb.Keys = { uuid: { S: HEARTBEAT_ITEM_KEY } };
        const outcome = classifyRecord(record, builders[which]!);
        if (outcome.kind === 'invalid') {
          expect(outcome.issues.length).toBeGreaterThan(0);
          for (const issue of outcome.issues) {
            expect(issue.field).not.toBe('');
            expect(issue.rule).not.toBe('');
          }
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('a MODIFY whose new image holds resync_run: null is handled (suppressed), not a failed invocation', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const before = nodeImage(4);
    const response = await h.invoke([modify(before, { ...before, memory_mb_used: { N: '5000' }, [RESYNC_MARKER_ATTRIBUTE]: null } as never)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sentEntries()).toEqual([]);
    expect(h.quarantined()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { loadVectors } from '../support/nova-vectors.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { DETAIL_SCHEMAS, SPEC_WATCHED_FIELDS, type EventType } from '../../functions/notifier/contract/index.js';

const vectors = loadVectors();

describe('Nova reference vectors', () => {
  it('are all there (32 shared + any newer)', () => {
    expect(vectors.size).toBeGreaterThanOrEqual(32);
  });

  for (const [file, vector] of vectors) {
    describe(`${file}: ${vector.description}`, () => {
      const build = createNotificationBuilder({
        eventBusName: 'test-bus',
        eventSource: 'openstack.nova',
        watchedFields: SPEC_WATCHED_FIELDS,
        publisherHostFallback: vector.publisher_host_fallback,
      });
      for (const c of vector.cases) {
        it(c.case, () => {
          const outcome = build(StreamRecord.parse(c.record));
          const expected = c.expect[0];
          if (expected === undefined) {
            // docs/event-contract.md's table: "MODIFY where no watched field changed (and no new marker): nothing (counted as suppressed)".
            expect(c.record.eventName).toBe('MODIFY');
            expect(outcome.kind).toBe('suppressed');
            return;
          }
          if ('rejected' in expected) {
            expect(outcome.kind).toBe('invalid');
            if (outcome.kind !== 'invalid') return;
            expect(new Set(outcome.issues.map((i) => i.field))).toEqual(new Set(expected.fields));
            return;
          }
          expect(outcome.kind).toBe('notify');
          if (outcome.kind !== 'notify') return;
          const { entry } = outcome.notification;
          expect(entry.DetailType).toBe(expected.DetailType);
          const detailText = entry.Detail!;
          // The payload's text, cut out of the Detail as sent: compared byte for byte.
          const start = detailText.indexOf(',"payload":') + ',"payload":'.length;
          const end = detailText.lastIndexOf(',"timestamp":');
          expect(detailText.slice(start, end)).toBe(expected.payload_json);
          const detail = JSON.parse(detailText) as Record<string, unknown>;
          expect(Object.keys(detail)).toEqual(['message_id', 'publisher_id', 'event_type', 'priority', 'payload', 'timestamp', 'change']);
          expect(detail.publisher_id).toBe(expected.publisher_id);
          expect(detail.event_type).toBe(expected.event_type);
          expect(detail.priority).toBe(expected.priority);
          // Our own contract holds for every Nova vector too.
          expect(DETAIL_SCHEMAS[expected.DetailType as EventType].safeParse(detail).error).toBeUndefined();
        });
      }
    });
  }
});

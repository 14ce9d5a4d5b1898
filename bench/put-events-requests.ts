/**
 * Measurement 3: PutEvents requests per notification, counted at the transport. With no
 * failures, n notifications must take exactly ⌈n/10⌉ requests; entries near the size limit
 * (a long string in a payload field) must be packed by size, and one over it must be handled.
 */
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { StreamRecord } from '../functions/notifier/stream-record.js';
import { CONTEXT, benchNotifier, sunk } from './harness.js';
import { CREATES_ONLY, streamEvent } from './record-mix.js';

export interface CountCase {
  readonly notifications: number;
  readonly requests: number;
  readonly expected: number;
  readonly exact: boolean;
}

export interface LargeCase {
  readonly label: string;
  readonly records: number;
  /** Characters of the padded payload field. */
  readonly padChars: number;
  /** Entry size as EventBridge counts it (from the wire), bytes. */
  readonly entryBytes: number;
  readonly requests: number;
  readonly entriesPerRequest: readonly number[];
  readonly published: number;
  readonly quarantined: number;
  readonly batchItemFailures: number;
  readonly note: string;
}

export interface PutEventsRequestsResult {
  readonly counts: readonly CountCase[];
  readonly allExact: boolean;
  readonly requestsPerNotification: number;
  readonly large: readonly LargeCase[];
}

export async function measurePutEventsRequests(opts: { tiny?: boolean } = {}): Promise<PutEventsRequestsResult> {
  const sizes = opts.tiny === true ? [1, 10, 11] : [1, 9, 10, 11, 99, 100, 101, 1000];
  const { handle, transport, config } = benchNotifier();
  const build = createNotificationBuilder(config);
  const counts: CountCase[] = [];
  for (const n of sizes) {
    transport.reset();
    await sunk(() => handle(streamEvent(n, CREATES_ONLY, { seed: n }), CONTEXT));
    const expected = Math.ceil(n / 10);
    const c = transport.counts;
    counts.push({ notifications: c.putEventsEntries, requests: c.putEventsRequests, expected, exact: c.putEventsRequests === expected && c.putEventsEntries === n });
  }
  const totalN = counts.reduce((s, c) => s + c.notifications, 0);
  const totalR = counts.reduce((s, c) => s + c.requests, 0);

  const largeCases = [
    { label: '~100 KB entries', records: opts.tiny === true ? 3 : 10, padChars: 100_000 },
    { label: '~200 KB entries', records: opts.tiny === true ? 2 : 4, padChars: 200_000 },
    { label: 'entry just under 256 KB', records: 2, padChars: 260_000 },
    { label: 'entry over 256 KB', records: 1, padChars: 270_000 },
  ];
  const large: LargeCase[] = [];
  for (const lc of largeCases) {
    transport.reset();
    const event = streamEvent(lc.records, CREATES_ONLY, { padTo: lc.padChars });
    const { value: response } = await sunk(() => handle(event, CONTEXT));
    const c = transport.counts;
    // The entry's size as EventBridge counts it (the builder's own figure, which the packing uses).
    const outcome = build(StreamRecord.parse(event.Records[0]));
    const entryBytes = outcome.kind === 'notify' ? outcome.notification.size : Number.NaN;
    const failures = response.batchItemFailures.length;
    let note: string;
    if (c.putEventsEntries === lc.records) {
      const most = Math.max(...c.entriesPerRequest);
      note = `all published, at most ${most} ${most === 1 ? 'entry' : 'entries'} per request (packed under the 256 KB request limit)`;
    }
    else if (c.sqsMessages > 0) note = 'refused before sending (EntryTooLarge) and quarantined';
    else if (failures > 0) note = 'refused before sending (EntryTooLarge); its quarantine message is over the SQS 256 KiB limit too, so it is reported as a batch item failure (Lambda retries the batch from it)';
    else note = 'not published';
    large.push({
      label: lc.label,
      records: lc.records,
      padChars: lc.padChars,
      entryBytes,
      requests: c.putEventsRequests,
      entriesPerRequest: c.entriesPerRequest,
      published: c.putEventsEntries,
      quarantined: c.sqsMessages,
      batchItemFailures: failures,
      note,
    });
  }
  return { counts, allExact: counts.every((c) => c.exact), requestsPerNotification: totalR / totalN, large };
}

/**
 * Notify only one region's writes (issue 22, global tables): with WRITER_REGION_ATTRIBUTE set,
 * a record whose deciding image (the new image; a REMOVE's old image) names another region in
 * that attribute is skipped and counted, never quarantined; a record without a usable mark is
 * notified as before and counted; heartbeats pass whatever they carry. Off, the attribute
 * changes nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AttributeValue } from 'aws-lambda';
import { loadConfig, type NotifierConfig } from '../../functions/notifier/config.js';
import { HEARTBEAT_ITEM_KEY, RESYNC_MARKER_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { createNotificationBuilder, type BuildOutcome } from '../../functions/notifier/notification-builder.js';
import { classifyRecord } from '../../functions/notifier/batch-processor.js';
import { METRIC } from '../../functions/notifier/metric-names.js';
import { renderCommand } from '../../cli/render.js';
import { allAccepted, harness, QUEUE_URL } from '../support/notifier-harness.js';
import { insert, modify, nodeImage, remove, type Image } from '../support/records.js';

const ATTRIBUTE = 'written_in';
const BASE_ENV = { EVENT_BUS_NAME: 'test-bus', QUARANTINE_QUEUE_URL: QUEUE_URL, PUBLISHER_HOST_FALLBACK: 'fallback-host' };
const FIXED_NOW = () => 1_800_000_000_000;

function configWith(env: Record<string, string>): NotifierConfig {
  return loadConfig({ ...BASE_ENV, ...env });
}

const onFor = (region: string) => configWith({ WRITER_REGION_ATTRIBUTE: ATTRIBUTE, AWS_REGION: region });
const mark = (region: string): Record<string, AttributeValue> => ({ [ATTRIBUTE]: { S: region } });

describe('configuration', () => {
  it('the attribute names the mark; the region is NOTIFY_WRITER_REGION, else the function’s own AWS_REGION', () => {
    expect(configWith({ WRITER_REGION_ATTRIBUTE: ATTRIBUTE, AWS_REGION: 'eu-west-1' }).writerRegion).toEqual({ attribute: ATTRIBUTE, region: 'eu-west-1' });
    expect(configWith({ WRITER_REGION_ATTRIBUTE: ATTRIBUTE, AWS_REGION: 'eu-west-1', NOTIFY_WRITER_REGION: 'us-east-1' }).writerRegion).toEqual({ attribute: ATTRIBUTE, region: 'us-east-1' });
    expect(configWith({ AWS_REGION: 'eu-west-1' })).not.toHaveProperty('writerRegion');
  });

  it('refuses a region without the attribute, a malformed region, an attribute with no region to compare', () => {
    expect(() => configWith({ NOTIFY_WRITER_REGION: 'eu-west-1' })).toThrow(/NOTIFY_WRITER_REGION: is used only with WRITER_REGION_ATTRIBUTE/);
    expect(() => configWith({ WRITER_REGION_ATTRIBUTE: ATTRIBUTE, NOTIFY_WRITER_REGION: 'Ireland' })).toThrow(/NOTIFY_WRITER_REGION: must be a region name/);
    expect(() => configWith({ WRITER_REGION_ATTRIBUTE: ATTRIBUTE })).toThrow(/NOTIFY_WRITER_REGION: must be set when AWS_REGION is not/);
    expect(() => configWith({ WRITER_REGION_ATTRIBUTE: 'x'.repeat(256), AWS_REGION: 'eu-west-1' })).toThrow(/WRITER_REGION_ATTRIBUTE: must be at most 255 characters/);
  });
});

describe('the classifier with a writer region', () => {
  const tally = { unmarked: 0 };
  const build = createNotificationBuilder(onFor('eu-west-1'), FIXED_NOW, tally);
  const classify = (raw: unknown): BuildOutcome => classifyRecord(raw, build);

  it('a create, an update, a soft delete written here notify; written elsewhere, skipped with the region', () => {
    expect(classify(insert(nodeImage(1, mark('eu-west-1')))).kind).toBe('notify');
    expect(classify(insert(nodeImage(1, mark('us-east-1'))))).toEqual({ kind: 'other_region', region: 'us-east-1' });
    const before = nodeImage(2, mark('eu-west-1'));
    expect(classify(modify(before, { ...before, running_vms: { N: '3' } })).kind).toBe('notify');
    // The new image decides: the write that made it is the one this record is.
    expect(classify(modify(before, { ...before, running_vms: { N: '3' }, ...mark('us-east-1') }))).toEqual({ kind: 'other_region', region: 'us-east-1' });
    expect(classify(modify(nodeImage(2, mark('us-east-1')), { ...before, running_vms: { N: '3' } })).kind).toBe('notify');
    expect(classify(modify(before, { ...before, deleted: { N: '7' }, ...mark('us-east-1') }))).toEqual({ kind: 'other_region', region: 'us-east-1' });
  });

  it('a REMOVE is decided by the old image (a delete writes no attribute): the last writer’s region', () => {
    expect(classify(remove(nodeImage(3, mark('eu-west-1')))).kind).toBe('notify');
    expect(classify(remove(nodeImage(3, mark('ap-south-1'))))).toEqual({ kind: 'other_region', region: 'ap-south-1' });
    expect(classify(remove(nodeImage(3, mark('ap-south-1')), { ttl: true }))).toEqual({ kind: 'other_region', region: 'ap-south-1' });
  });

  it('no usable mark (absent, NULL, not a string, empty): notified as without the option, and counted', () => {
    tally.unmarked = 0;
    for (const value of [undefined, { NULL: true }, { N: '1' }, { S: '' }, { SS: ['eu-west-1'] }] as (AttributeValue | undefined)[]) {
      expect(classify(insert(nodeImage(4, { [ATTRIBUTE]: value }))).kind).toBe('notify');
    }
    expect(tally.unmarked).toBe(5);
    expect(classify(insert(nodeImage(4, mark('eu-west-1')))).kind).toBe('notify');
    expect(tally.unmarked).toBe(5);
  });

  it('a bad image written elsewhere is that region’s to quarantine, not ours', () => {
    expect(classify(insert(nodeImage(5, { vcpus: { S: 'eight' } }))).kind).toBe('invalid');
    expect(classify(insert(nodeImage(5, { vcpus: { S: 'eight' }, ...mark('us-east-1') })))).toEqual({ kind: 'other_region', region: 'us-east-1' });
  });

  it('the heartbeat item is a control event: it passes whatever region it names', () => {
    const beat = nodeImage(6, { uuid: { S: HEARTBEAT_ITEM_KEY }, ...mark('us-east-1') });
    const r = modify(beat, beat);
    r.dynamodb.Keys = { uuid: { S: HEARTBEAT_ITEM_KEY } };
    expect(classify(r).kind).toBe('heartbeat');
  });

  it('a resync marker write follows the node’s region like any write of it (its last writer’s, unchanged by the marker)', () => {
    const before = nodeImage(7, mark('us-east-1'));
    expect(classify(modify(before, { ...before, [RESYNC_MARKER_ATTRIBUTE]: { S: 'run-1' } }))).toEqual({ kind: 'other_region', region: 'us-east-1' });
    const ours = nodeImage(7, mark('eu-west-1'));
    const outcome = classify(modify(ours, { ...ours, [RESYNC_MARKER_ATTRIBUTE]: { S: 'run-1' } }));
    expect(outcome.kind).toBe('notify');
  });
});

describe('the notifier with a writer region', () => {
  it('skips other regions’ writes without quarantining them, and reports both counts as metrics', async () => {
    const h = harness({ WRITER_REGION_ATTRIBUTE: ATTRIBUTE, AWS_REGION: 'eu-west-1' });
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    const records = [insert(nodeImage(1, mark('eu-west-1'))), insert(nodeImage(2, mark('us-east-1'))), remove(nodeImage(3, mark('us-east-1'))), insert(nodeImage(4))];
    expect(await h.invoke(records)).toEqual({ batchItemFailures: [] });
    const uuids = h.sentEntries().map((e) => (JSON.parse(e.Detail!) as { payload: { 'nova_object.data': { uuid: string } } }).payload['nova_object.data'].uuid);
    expect(uuids).toEqual([nodeImage(1).uuid!.S, nodeImage(4).uuid!.S]);
    expect(h.quarantined()).toEqual([]);
    const metrics = h.emitted.map((s) => JSON.parse(s) as Record<string, unknown>);
    expect(metrics.some((m) => m[METRIC.writesOfOtherRegions] === 2)).toBe(true);
    expect(metrics.some((m) => m[METRIC.unmarkedWrites] === 1)).toBe(true);
  });

  it('off, neither metric is emitted', async () => {
    const h = harness({ AWS_REGION: 'eu-west-1' });
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    await h.invoke([insert(nodeImage(1, mark('us-east-1')))]);
    expect(h.sentEntries()).toHaveLength(1);
    const names = h.emitted.flatMap((s) => Object.keys(JSON.parse(s) as object));
    expect(names).not.toContain(METRIC.writesOfOtherRegions);
    expect(names).not.toContain(METRIC.unmarkedWrites);
  });
});

describe('cli render with the deployed setting', () => {
  it('renders only this region’s writes and counts the others', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const event = { Records: [insert(nodeImage(1, mark('eu-west-1'))), insert(nodeImage(2, mark('us-east-1')))] };
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => JSON.stringify(event) };
    expect(await renderCommand(['-'], io, { WRITER_REGION_ATTRIBUTE: ATTRIBUTE, AWS_REGION: 'eu-west-1' })).toBe(0);
    expect(out.join('').trim().split('\n')).toHaveLength(1);
    expect(err.join('')).toContain('1 notifications out, 0 suppressed, 0 ignored, 1 written in another region, 0 rejected');
  });
});

// ----- properties -----

const REGIONS = ['eu-west-1', 'us-east-1', 'ap-south-1'] as const;
/** A mark as a writer might leave it, usable or not. */
const markValue = fc.oneof(
  fc.constant<AttributeValue | undefined>(undefined),
  fc.constantFrom(...REGIONS).map((r): AttributeValue => ({ S: r })),
  fc.constantFrom<AttributeValue>({ NULL: true }, { N: '1' }, { S: '' }, { BOOL: true }),
);
const deleted = fc.constantFrom<AttributeValue | undefined>(undefined, { N: '0' }, { N: '12' }, { NULL: true });
const image = fc
  .record({
    n: fc.integer({ min: 1, max: 50 }),
    mark: markValue,
    deleted,
    runningVms: fc.integer({ min: 0, max: 3 }),
    resync: fc.constantFrom<string | undefined>(undefined, 'run-a', 'run-b'),
    bad: fc.boolean(),
  })
  .map(
    (x): Image =>
      nodeImage(x.n, {
        [ATTRIBUTE]: x.mark,
        deleted: x.deleted,
        running_vms: { N: String(x.runningVms) },
        [RESYNC_MARKER_ATTRIBUTE]: x.resync === undefined ? undefined : { S: x.resync },
        ...(x.bad ? { vcpus: { S: 'eight' } } : {}),
      }),
  );
const record = fc.oneof(
  image.map((i) => insert(i)),
  fc.tuple(image, image).map(([a, b]) => modify(a, { ...b, uuid: a.uuid! })),
  image.map((i) => remove(i)),
  fc.tuple(image, fc.boolean()).map(([i, removed]) => {
    const beat = { ...i, uuid: { S: HEARTBEAT_ITEM_KEY } };
    const r = removed ? remove(beat) : modify(beat, beat);
    r.dynamodb.Keys = { uuid: { S: HEARTBEAT_ITEM_KEY } };
    return r;
  }),
);

type TestRecordT = ReturnType<typeof insert>;
/** The mark of the image that decides: the new image, a REMOVE's old one. */
function decidingMark(r: TestRecordT): AttributeValue | undefined {
  return (r.eventName === 'REMOVE' ? r.dynamodb.OldImage : r.dynamodb.NewImage)?.[ATTRIBUTE];
}
function withoutMark(r: TestRecordT): TestRecordT {
  const strip = (i: Image | undefined) => (i === undefined ? undefined : Object.fromEntries(Object.entries(i).filter(([k]) => k !== ATTRIBUTE)));
  const d = { ...r.dynamodb, NewImage: strip(r.dynamodb.NewImage), OldImage: strip(r.dynamodb.OldImage) };
  if (d.NewImage === undefined) delete d.NewImage;
  if (d.OldImage === undefined) delete d.OldImage;
  return { ...r, dynamodb: d as TestRecordT['dynamodb'] };
}
const isHeartbeat = (r: TestRecordT) => r.dynamodb.Keys.uuid?.S === HEARTBEAT_ITEM_KEY;

describe('properties (1,000 runs each)', () => {
  const off = createNotificationBuilder(configWith({ AWS_REGION: 'eu-west-1' }), FIXED_NOW);

  it('off: a mark, whatever it holds, changes no outcome (the classifier of the record without it)', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(classifyRecord(r, off)).toEqual(classifyRecord(withoutMark(r), off));
      }),
      { numRuns: 1000 },
    );
  });

  it('on: exactly the records marked with another region are skipped; the rest are what they were off, the unmarked counted', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REGIONS), fc.array(record, { minLength: 1, maxLength: 20 }), (ours, records) => {
        const tally = { unmarked: 0 };
        const on = createNotificationBuilder(onFor(ours), FIXED_NOW, tally);
        let expectedUnmarked = 0;
        for (const r of records) {
          const m = decidingMark(r);
          const region = typeof m?.S === 'string' && m.S !== '' ? m.S : undefined;
          const outcome = classifyRecord(r, on);
          if (isHeartbeat(r) || region === ours || region === undefined) {
            expect(outcome).toEqual(classifyRecord(r, off));
            if (!isHeartbeat(r) && region === undefined) expectedUnmarked++;
          } else {
            expect(outcome).toEqual({ kind: 'other_region', region });
          }
          // Notified: exactly the heartbeats and the records written here or unmarked (that notify off).
          if (outcome.kind === 'notify') expect(region === ours || region === undefined).toBe(true);
        }
        expect(tally.unmarked).toBe(expectedUnmarked);
      }),
      { numRuns: 1000 },
    );
  });
});

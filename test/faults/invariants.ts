/**
 * The invariants every fault scenario checks, shared by the fault tests (`test/faults/`) and
 * the soak (`soak/`):
 *
 * 1. every change to a watched field (and every create and delete) leads to a notification
 *    delivered at least once, and exactly once after deduplication by `message_id`, with the
 *    right detail type, cause and changed fields, and the right origin: a record whose only
 *    news is a new resync marker value is a resync run's full-state update (`origin` resync,
 *    `resync_run` the marker), every other one `stream`; nothing else is delivered;
 * 2. every rejected record is in the quarantine with its reason (the offending fields, or
 *    EventBridge's error code) and its full content;
 * 3. per node, the last delivered state (by `change.sequence_number` as BigInt) equals the
 *    table's final state: a deleted or soft-deleted node ends with a delete, a live node's
 *    watched fields equal the table's (unwatched ones may be newer: such updates are
 *    suppressed by design);
 * 4. nothing is stuck: the event source mapping read every record of the stream and finished
 *    every batch;
 * 5. a resync run's end event (when delivered) announces at least as many nodes as its
 *    notifications are about (`refreshed` ≥ distinct uuids with that `resync_run`).
 *
 * The oracle (what *should* happen) is independent of the notifier's code: it is computed
 * here from the stream records themselves, read independently of the poller (DynamoDB
 * Local's stream read again from TRIM_HORIZON, or the records a scenario generated), by the
 * docs/event-contract.md's table "When a notification is sent": old and new image compared on the watched
 * fields (the spec's nine, or the list the observation names: the local pipeline's come from
 * the template) by meaning (numbers as exact decimals, so `8` = `8.0` = `80E-1`, however
 * many digits), soft deletes by the `deleted` attribute. An image is invalid when it breaks
 * the payload's field types as Nova's spec defines them (`PAYLOAD_FIELD_TYPES`: a required
 * field missing or NULL, a number where text belongs or the reverse, a fraction in an
 * integer field), or when the scenario says so: an image may carry a `fault_expect`
 * attribute (JSON: `{"invalid": [fields]}` or `{"rejected": {"code": ..., "fields": [...]}}`,
 * an attribute the notifier ignores) for what the oracle does not parse itself (malformed
 * UUIDs or IP addresses, entries EventBridge refuses), or the scenario passes
 * `imageProblems`, and a record the scenario broke by hand is named in `recordExpectations`.
 * test/faults/invariants.test.ts checks the oracle against the real notification builder.
 */
import type { DeliveredEvent } from '../../local/targets.js';
import type { OnFailureRecord } from '../../local/batch-delivery.js';

type Attribute = Record<string, unknown>;
export type Image = Record<string, Attribute>;

/** The attribute a resync run writes (docs/resync-and-indexer.md); the oracle's own copy of the name. */
export const MARKER = 'resync_run';
/** The detail type of a resync run's start and end events; the oracle's own copy. */
export const RESYNC_RUN_EVENT = 'hypervisor_notifier.resync_run';

/** The spec's nine watched fields, in payload order (docs/event-contract.md, "Watched fields"). */
export const WATCHED_FIELDS = [
  'vcpus',
  'memory_mb',
  'local_gb',
  'vcpus_used',
  'local_gb_used',
  'hypervisor_hostname',
  'current_workload',
  'running_vms',
  'disk_available_least',
] as const;

type FieldKind = 'Integer' | 'String' | 'UUID' | 'IPAddress';
const field = (kind: FieldKind, nullable = false) => ({ kind, nullable }) as const;

/**
 * ComputeNodePayload 1.0's fields (Nova's spec, "Add notifications for hypervisor"), written out
 * here rather than read from the notifier's contract, so the oracle is an independent opinion.
 */
export const PAYLOAD_FIELD_TYPES: Readonly<Record<string, { readonly kind: FieldKind; readonly nullable: boolean }>> = {
  id: field('Integer'),
  uuid: field('UUID'),
  host: field('String', true),
  vcpus: field('Integer'),
  memory_mb: field('Integer'),
  local_gb: field('Integer'),
  vcpus_used: field('Integer'),
  memory_mb_used: field('Integer'),
  local_gb_used: field('Integer'),
  hypervisor_type: field('String'),
  hypervisor_version: field('Integer'),
  hypervisor_hostname: field('String', true),
  free_ram_mb: field('Integer', true),
  free_disk_gb: field('Integer', true),
  current_workload: field('Integer', true),
  running_vms: field('Integer', true),
  disk_available_least: field('Integer', true),
  host_ip: field('IPAddress', true),
};

/**
 * The payload fields an image breaks by type: missing or NULL where the field is required, an
 * attribute of the wrong type (N for integers, S for the others), an integer field holding a
 * fraction. Text contents (UUID and IP syntax, lone surrogates) are not parsed: scenarios that
 * break them say so with `fault_expect`.
 */
export function typeProblems(image: Image): string[] {
  const problems: string[] = [];
  for (const [name, { kind, nullable }] of Object.entries(PAYLOAD_FIELD_TYPES)) {
    const value = image[name];
    if (value === undefined || value.NULL === true) {
      if (!nullable) problems.push(name);
      continue;
    }
    const keys = Object.keys(value);
    const wanted = kind === 'Integer' ? 'N' : 'S';
    if (keys.length !== 1 || keys[0] !== wanted || typeof value[wanted] !== 'string') {
      problems.push(name);
      continue;
    }
    if (kind === 'Integer') {
      const n = canonicalNumber(value.N as string);
      if (n === undefined || !/^-?\d+e\d+$/.test(n)) problems.push(name);
    }
  }
  return problems;
}

/** The attribute a scenario puts on an image it made invalid on purpose (ignored by the notifier). */
export const EXPECT_ATTRIBUTE = 'fault_expect';

/** What a scenario knows is wrong with an image. */
export interface ImageProblems {
  /** Fields the notifier must name when it quarantines the record (`invalid_record`). */
  readonly invalid?: readonly string[];
  /** EventBridge must refuse the entry with this code (`event_rejected`); `fields`: the fields that cause it. */
  readonly rejected?: { readonly code: string; readonly fields: readonly string[] };
}

/** What must become of one stream record. */
export type Expectation =
  /** `resyncRun`: a resync run's notification (origin `resync`, that run id); absent: origin `stream`, no run. */
  | { readonly kind: 'notify'; readonly type: string; readonly cause: string; readonly changed: readonly string[]; readonly resyncRun?: string }
  | { readonly kind: 'nothing'; readonly why: string }
  | { readonly kind: 'quarantine'; readonly reason: 'invalid_record'; readonly fields: readonly string[] }
  | { readonly kind: 'quarantine'; readonly reason: 'event_rejected'; readonly errorCode: string }
  /** The whole invocation fails (a configuration error): the record ends in the on-failure destination. */
  | { readonly kind: 'on_failure'; readonly why: string };

/** A stream record as the handler receives it (loosely typed: scenarios also send broken ones). */
export interface ObservedRecord {
  readonly eventID?: unknown;
  readonly eventName?: unknown;
  readonly dynamodb?: {
    readonly SequenceNumber?: unknown;
    readonly Keys?: Image;
    readonly NewImage?: Image;
    readonly OldImage?: Image;
    readonly StreamViewType?: unknown;
  };
}

export interface Observation {
  /** Scenario label, for messages. */
  readonly scenario: string;
  /** Table writes the scenario made (for the report). */
  readonly writes: number;
  /** Every record of the stream, in stream order, read independently of the poller. */
  readonly records: readonly ObservedRecord[];
  /** The table at the end: uuid → item. A node that is not in it was deleted. */
  readonly table: ReadonlyMap<string, Image>;
  /** Every event the bus accepted for its bus, retries included. */
  readonly delivered: readonly DeliveredEvent[];
  /** Every quarantine message body. */
  readonly quarantined: readonly string[];
  /** What the event source mapping gave up on. */
  readonly onFailure: readonly OnFailureRecord[];
  /** Records the event source mapping has read, and finished (delivered or given up on). */
  readonly progress: { readonly read: number; readonly done: number };
  /** The watched fields the notifier ran with (the local pipeline's come from the template). @default WATCHED_FIELDS */
  readonly watchedFields?: readonly string[];
}

export interface CheckOptions {
  /** The notifier's watched fields, any order (changed fields are expected in payload order). @default the observation's, else WATCHED_FIELDS */
  readonly watchedFields?: readonly string[];
  /** The scenario's knowledge of invalid images (besides the `fault_expect` attribute). */
  readonly imageProblems?: (image: Image) => ImageProblems | undefined;
  /** Records the scenario broke by hand (bad envelope, no images), by eventID. */
  readonly recordExpectations?: ReadonlyMap<string, Expectation>;
  /**
   * The notifier's WATCHED_FIELD_RESOLUTIONS (field → resolution): such a field counts as changed
   * when floor(value / resolution) changes, and the last notification may differ from the table
   * by less than the resolution (docs/field-resolution.md). @default {} (every field exact)
   */
  readonly fieldResolutions?: Readonly<Record<string, number>>;
}

export interface InvariantReport {
  readonly scenario: string;
  readonly writes: number;
  readonly records: number;
  /** Notifications the oracle expects (one per record). */
  readonly expected: number;
  /** Delivered events, retries included. */
  readonly deliveries: number;
  /** Distinct `message_id`s delivered. */
  readonly delivered: number;
  /** Deliveries beyond the first of each `message_id`. */
  readonly duplicates: number;
  /** Records the oracle expects in the quarantine. */
  readonly expectedQuarantined: number;
  /** Records in the quarantine (distinct: a record quarantined again on a retry counts once). */
  readonly quarantined: number;
  /** Records in the on-failure destination. */
  readonly onFailure: number;
  /** Expected notifications not delivered plus expected quarantines missing: must be 0. */
  readonly lost: number;
  /** Everything that is wrong, one line each (lost records included). */
  readonly violations: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// The oracle

/** A DynamoDB number's meaning as an exact decimal: `8`, `8.0`, `80E-1` → `8e0`; zero → `0e0`. */
export function canonicalNumber(text: string): string | undefined {
  const m = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let exponent = BigInt(m[4] ?? '0') - BigInt((m[3] ?? '').length);
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0e0';
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += BigInt(trailing);
  return `${m[1] === '-' ? '-' : ''}${digits}e${exponent}`;
}

/** What a watched attribute means: missing and NULL are the same (`null` in the payload). */
export function meaning(value: Attribute | undefined): string {
  if (value === undefined || value === null || typeof value !== 'object') return 'null';
  if (value.NULL === true) return 'null';
  if (typeof value.N === 'string') return `n:${canonicalNumber(value.N) ?? value.N}`;
  if (typeof value.S === 'string') return `s:${value.S}`;
  return `other:${JSON.stringify(value)}`;
}

/** An integer's exact value from its canonical form (`12e2` → 1200n), or undefined for a fraction. */
function integerOf(canonical: string): bigint | undefined {
  const m = /^(-?)(\d+)e(-?\d+)$/.exec(canonical);
  if (m === null || m[3]!.startsWith('-')) return undefined;
  const v = BigInt(m[2]!) * 10n ** BigInt(m[3]!);
  return m[1] === '-' ? -v : v;
}

/** What a watched attribute means at a resolution: its bucket, floor(value / resolution), for an integer. */
export function meaningAt(value: Attribute | undefined, resolution: number | undefined): string {
  const exact = meaning(value);
  if (resolution === undefined || !exact.startsWith('n:')) return exact;
  const v = integerOf(exact.slice(2));
  if (v === undefined) return exact;
  const r = BigInt(resolution);
  const q = v / r;
  return `bucket:${v < 0n && q * r !== v ? q - 1n : q}`;
}

/** Nova's soft delete: `deleted` non-zero or true. `undefined` when the attribute is malformed. */
export function softDeleted(image: Image): boolean | undefined {
  const d = image.deleted;
  if (d === undefined || d.NULL === true) return false;
  if (typeof d.BOOL === 'boolean') return d.BOOL;
  if (typeof d.N === 'string') {
    const n = canonicalNumber(d.N);
    if (n === undefined || !/^-?\d+e\d+$/.test(n)) return undefined; // not an integer
    return n !== '0e0';
  }
  return undefined;
}

function problemsOf(image: Image, opts: CheckOptions): ImageProblems {
  const marked = image[EXPECT_ATTRIBUTE];
  let fromMarker: ImageProblems = {};
  if (marked !== undefined && typeof marked.S === 'string') fromMarker = JSON.parse(marked.S) as ImageProblems;
  const fromScenario = opts.imageProblems?.(image) ?? {};
  const invalid = [...new Set([...typeProblems(image), ...(fromMarker.invalid ?? []), ...(fromScenario.invalid ?? [])])];
  const rejected = fromMarker.rejected ?? fromScenario.rejected;
  return { ...(invalid.length > 0 ? { invalid } : {}), ...(rejected === undefined ? {} : { rejected }) };
}

/** The notification a valid image yields, or the quarantine its problems lead to. */
function publish(image: Image, fields: 'all' | readonly string[], notification: Expectation & { kind: 'notify' }, opts: CheckOptions): Expectation {
  const p = problemsOf(image, opts);
  const relevant = (f: string) => fields === 'all' || fields.includes(f);
  const invalid = (p.invalid ?? []).filter(relevant);
  if (invalid.length > 0) return { kind: 'quarantine', reason: 'invalid_record', fields: invalid };
  if (p.rejected !== undefined && p.rejected.fields.some(relevant)) return { kind: 'quarantine', reason: 'event_rejected', errorCode: p.rejected.code };
  return notification;
}

/** The watched fields in payload order (the order `changed_fields` lists them in). */
function watchedOf(opts: CheckOptions): readonly string[] {
  const watched = opts.watchedFields ?? WATCHED_FIELDS;
  return Object.keys(PAYLOAD_FIELD_TYPES).filter((f) => watched.includes(f));
}

/** PutEvents' JSON integer range (API reference, PutEvents): EventBridge refuses an entry with an integer outside it. */
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** An integer attribute outside 64 bits: its notification was refused by EventBridge. */
function beyond64Bits(value: Attribute | undefined): boolean {
  const m = meaning(value);
  const v = m.startsWith('n:') ? integerOf(m.slice(2)) : undefined;
  return v !== undefined && (v < INT64.min || v > INT64.max);
}

/** An integer payload field of `before` outside 64 bits that `after` writes anew: `before` was never notified. */
function beyond64BitsChanged(before: Image, after: Image): boolean {
  return Object.entries(PAYLOAD_FIELD_TYPES).some(([f, t]) => t.kind === 'Integer' && beyond64Bits(before[f]) && JSON.stringify(before[f]) !== JSON.stringify(after[f]));
}

/** The marker's new value when the record wrote one: a non-empty string other than the old image's. */
function newMarker(before: Image, after: Image): string | undefined {
  const now = after[MARKER];
  if (typeof now?.S !== 'string' || now.S === '') return undefined;
  const was = before[MARKER];
  return was !== undefined && Object.keys(was).length === 1 && was.S === now.S ? undefined : now.S;
}

/** docs/event-contract.md's table "When a notification is sent", applied to one record. */
export function expectationFor(record: ObservedRecord, opts: CheckOptions = {}): Expectation {
  const byHand = typeof record.eventID === 'string' ? opts.recordExpectations?.get(record.eventID) : undefined;
  if (byHand !== undefined) return byHand;
  const d = record.dynamodb ?? {};
  const remove = (image: Image, cause: string) => publish(image, ['id', 'uuid'], { kind: 'notify', type: 'compute_node.delete', cause, changed: [] }, opts);
  const create = (image: Image, cause: string) => publish(image, 'all', { kind: 'notify', type: 'compute_node.create', cause, changed: [] }, opts);
  const badDeleted: Expectation = { kind: 'quarantine', reason: 'invalid_record', fields: ['deleted'] };
  switch (record.eventName) {
    case 'INSERT': {
      const image = d.NewImage!;
      const deleted = softDeleted(image);
      if (deleted === undefined) return badDeleted;
      return deleted ? { kind: 'nothing', why: 'inserted soft-deleted' } : create(image, 'insert');
    }
    case 'MODIFY': {
      const before = d.OldImage!;
      const after = d.NewImage!;
      const now = softDeleted(after);
      if (now === undefined) return badDeleted;
      if (softDeleted(before) === true) {
        if (!now) return create(after, 'undelete');
        // A soft delete quarantined for its id or uuid (a delete's payload) is notified by the write that puts them right.
        const deleteInvalid = (image: Image) => (problemsOf(image, opts).invalid ?? []).some((f) => f === 'id' || f === 'uuid') || beyond64Bits(image.id);
        return deleteInvalid(before) && !deleteInvalid(after) ? remove(after, 'soft_delete') : { kind: 'nothing', why: 'change to a soft-deleted node' };
      }
      if (now) return remove(after, 'soft_delete');
      const r = opts.fieldResolutions ?? {};
      const changed = watchedOf(opts).filter((f) => meaningAt(before[f], r[f]) !== meaningAt(after[f], r[f]));
      // The new image is validated whatever changed.
      const p = problemsOf(after, opts);
      if ((p.invalid ?? []).length > 0) return { kind: 'quarantine', reason: 'invalid_record', fields: p.invalid! };
      if (changed.length === 0) {
        // docs/resync-and-indexer.md: a new marker value (a resync run's write) asks for the full state.
        const run = newMarker(before, after);
        if (run === undefined) {
          // A repair: the old image was invalid, so quarantined and never notified; the write that
          // puts the node right carries its full state (docs/event-contract.md).
          const wasInvalid = softDeleted(before) === undefined || (problemsOf(before, opts).invalid ?? []).length > 0 || beyond64BitsChanged(before, after);
          return wasInvalid ? publish(after, 'all', { kind: 'notify', type: 'compute_node.update', cause: 'modify', changed: [] }, opts) : { kind: 'nothing', why: 'no watched field changed' };
        }
        return publish(after, 'all', { kind: 'notify', type: 'compute_node.update', cause: 'modify', changed: [], resyncRun: run }, opts);
      }
      return publish(after, 'all', { kind: 'notify', type: 'compute_node.update', cause: 'modify', changed }, opts);
    }
    case 'REMOVE': {
      const image = d.OldImage!;
      if (softDeleted(image) === true) return { kind: 'nothing', why: 'the node was soft-deleted' };
      return remove(image, 'remove');
    }
    default:
      throw new Error(`the oracle has no rule for record ${String(record.eventID)} (${String(record.eventName)}): name it in recordExpectations`);
  }
}

// ---------------------------------------------------------------------------------------------
// The check

interface Detail {
  message_id: string;
  payload: { 'nova_object.data': Record<string, unknown> };
  change: { sequence_number: string; changed_fields: string[]; cause: string; origin: string; resync_run: string | null };
}

const seqOf = (r: ObservedRecord) => String(r.dynamodb?.SequenceNumber ?? '');
const uuidOf = (r: ObservedRecord) => {
  const key = r.dynamodb?.Keys?.uuid ?? r.dynamodb?.NewImage?.uuid ?? r.dynamodb?.OldImage?.uuid;
  return typeof key?.S === 'string' ? key.S : undefined;
};
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The quarantined copy equals the record re-read from the stream, creation time included: the
 * local stream gives a record the same stamp on every read, as AWS does.
 */
function sameRecordAsReceived(quarantined: unknown, reread: ObservedRecord): boolean {
  return JSON.stringify(quarantined) === JSON.stringify(reread);
}

/** Checks the four invariants; never throws for a violation (the report lists them). */
export function checkInvariants(o: Observation, opts: CheckOptions = {}): InvariantReport {
  const watchedFields = opts.watchedFields ?? o.watchedFields;
  const withWatched: CheckOptions = watchedFields === undefined ? opts : { ...opts, watchedFields };
  const violations: string[] = [];
  const problem = (text: string) => {
    if (violations.length < 200) violations.push(text);
    else if (violations.length === 200) violations.push('… (more violations not listed)');
  };

  // Deliveries, deduplicated by message_id; each id must always carry the same detail.
  const byMessage = new Map<string, { detail: Detail; type: string; text: string; count: number }>();
  /** Resync runs' end events: run id → the `refreshed` they announce (invariant 5). */
  const runEnds = new Map<string, number>();
  for (const event of o.delivered) {
    if (event['detail-type'] === RESYNC_RUN_EVENT) {
      const d = event.detail as { run_id?: string; phase?: string; refreshed?: number };
      if (d.phase === 'end' && typeof d.run_id === 'string') runEnds.set(d.run_id, Number(d.refreshed));
      continue;
    }
    const detail = event.detail as unknown as Detail;
    const text = JSON.stringify(event.detail);
    const seen = byMessage.get(detail.message_id);
    if (seen === undefined) byMessage.set(detail.message_id, { detail, type: event['detail-type'], text, count: 1 });
    else {
      seen.count++;
      if (seen.text !== text) problem(`message_id ${detail.message_id} was delivered with two different details`);
    }
  }
  const bySequence = new Map<string, { detail: Detail; type: string }[]>();
  for (const { detail, type } of byMessage.values()) {
    const list = bySequence.get(detail.change.sequence_number) ?? [];
    list.push({ detail, type });
    bySequence.set(detail.change.sequence_number, list);
  }
  const quarantineBySequence = new Map<string, Record<string, unknown>[]>();
  const quarantineById = new Map<string, Record<string, unknown>[]>();
  for (const body of o.quarantined) {
    const m = JSON.parse(body) as Record<string, unknown>;
    for (const [map, key] of [
      [quarantineBySequence, m.sequenceNumber],
      [quarantineById, m.eventID],
    ] as const) {
      const k = String(key);
      map.set(k, [...(map.get(k) ?? []), m]);
    }
  }
  const onFailureIds = new Set(o.onFailure.flatMap((f) => f.records.map((r) => r.eventID)));

  let expected = 0;
  let expectedQuarantined = 0;
  let lost = 0;
  let onFailure = 0;
  const explained = new Set<string>(); // sequence numbers of records whose notification was expected
  const explainedQuarantine = new Set<Record<string, unknown>>();
  /** Per node: the last expected notification (by sequence number), and whether its final image has a known problem. */
  const lastExpected = new Map<string, { seq: bigint; type: string }>();
  const lastRecord = new Map<string, { seq: bigint; expectation: Expectation }>();

  for (const record of o.records) {
    const expectation = expectationFor(record, withWatched);
    const seq = seqOf(record);
    const id = String(record.eventID ?? '');
    const uuid = uuidOf(record);
    const where = `record ${id} (${String(record.eventName)} seq ${seq}${uuid === undefined ? '' : ` node ${uuid}`})`;
    if (uuid !== undefined && /^\d+$/.test(seq)) {
      const prev = lastRecord.get(uuid);
      if (prev === undefined || BigInt(seq) > prev.seq) lastRecord.set(uuid, { seq: BigInt(seq), expectation });
    }
    const inOnFailure = onFailureIds.has(id);
    switch (expectation.kind) {
      case 'nothing': {
        const sent = bySequence.get(seq);
        if (sent !== undefined) problem(`${where}: expected no notification (${expectation.why}), got ${sent.map((d) => d.detail.message_id).join(', ')}`);
        explained.add(seq);
        break;
      }
      case 'notify': {
        expected++;
        explained.add(seq);
        if (uuid !== undefined) {
          const prev = lastExpected.get(uuid);
          if (prev === undefined || BigInt(seq) > prev.seq) lastExpected.set(uuid, { seq: BigInt(seq), type: expectation.type });
        }
        const sent = bySequence.get(seq) ?? [];
        if (sent.length === 0) {
          if (inOnFailure && o.onFailure.length > 0) onFailure++;
          else {
            lost++;
            problem(`LOST ${where}: expected ${expectation.type} (${expectation.cause}), nothing delivered${quarantineBySequence.has(seq) ? ' (it was quarantined instead)' : ''}`);
          }
          break;
        }
        if (sent.length > 1) problem(`${where}: published under ${sent.length} different message ids`);
        const { detail: d, type } = sent[0]!;
        if (type !== expectation.type) problem(`${where}: expected ${expectation.type}, delivered ${type}`);
        if (d.change.cause !== expectation.cause) problem(`${where}: expected cause ${expectation.cause}, delivered ${d.change.cause}`);
        const origin = expectation.resyncRun === undefined ? 'stream' : 'resync';
        const run = expectation.resyncRun ?? null;
        if (d.change.origin !== origin || d.change.resync_run !== run) {
          problem(`${where}: expected origin ${origin} and resync_run ${String(run)}, delivered ${d.change.origin} and ${String(d.change.resync_run)}`);
        }
        if (!sameList(d.change.changed_fields, expectation.changed)) {
          problem(`${where}: expected changed_fields [${expectation.changed.join(',')}], delivered [${d.change.changed_fields.join(',')}]`);
        }
        const payloadUuid = d.payload['nova_object.data'].uuid;
        if (uuid !== undefined && payloadUuid !== uuid) problem(`${where}: the notification names node ${String(payloadUuid)}`);
        break;
      }
      case 'quarantine': {
        expectedQuarantined++;
        const messages = /^\d+$/.test(seq) ? (quarantineBySequence.get(seq) ?? []) : (quarantineById.get(id) ?? []);
        const mine = messages.filter((m) => m.eventID === record.eventID);
        if (mine.length === 0) {
          if (inOnFailure && o.onFailure.length > 0) onFailure++;
          else {
            lost++;
            problem(`LOST ${where}: expected in quarantine (${expectation.reason}), not there${bySequence.has(seq) ? ' (a notification was sent instead)' : ''}`);
          }
          break;
        }
        for (const m of mine) {
          explainedQuarantine.add(m);
          if (m.reason !== expectation.reason) problem(`${where}: quarantined as ${String(m.reason)}, expected ${expectation.reason}`);
          else if (expectation.reason === 'invalid_record') {
            const fields = [...new Set(((m.issues ?? []) as { field: string }[]).map((i) => i.field))].sort();
            const want = [...new Set(expectation.fields)].sort();
            if (!sameList(fields, want)) problem(`${where}: quarantine names fields [${fields.join(',')}], expected [${want.join(',')}]`);
          } else if (m.errorCode !== expectation.errorCode) problem(`${where}: quarantined with error code ${String(m.errorCode)}, expected ${expectation.errorCode}`);
          if (!sameRecordAsReceived(m.record, record)) problem(`${where}: the quarantined record is not the record as received`);
        }
        if (bySequence.has(seq) && /^\d+$/.test(seq)) problem(`${where}: quarantined, yet a notification was delivered`);
        break;
      }
      case 'on_failure': {
        if (inOnFailure) onFailure++;
        else {
          lost++;
          problem(`LOST ${where}: expected in the on-failure destination (${expectation.why}), not there`);
        }
        explained.add(seq);
        break;
      }
    }
  }

  // Nothing delivered or quarantined that no record explains.
  for (const [seq, details] of bySequence) {
    if (!explained.has(seq)) problem(`a notification for sequence number ${seq} (${details.map((d) => d.detail.message_id).join(', ')}) matches no record that should notify`);
  }
  for (const body of o.quarantined) {
    const m = JSON.parse(body) as Record<string, unknown>;
    if (![...explainedQuarantine].some((x) => x.eventID === m.eventID && x.sequenceNumber === m.sequenceNumber)) {
      problem(`quarantine message for record ${String(m.eventID)} (seq ${String(m.sequenceNumber)}, ${String(m.reason)}) matches no record that should be quarantined`);
    }
  }

  // 3. The last delivered state per node equals the table's final state.
  const lastDelivered = new Map<string, { seq: bigint; detail: Detail; type: string }>();
  for (const event of o.delivered) {
    if (event['detail-type'] === RESYNC_RUN_EVENT) continue;
    const d = event.detail as unknown as Detail;
    const uuid = String(d.payload['nova_object.data'].uuid);
    const seq = BigInt(d.change.sequence_number);
    const prev = lastDelivered.get(uuid);
    if (prev === undefined || seq > prev.seq) lastDelivered.set(uuid, { seq, detail: d, type: event['detail-type'] });
  }
  for (const [uuid, last] of lastRecord) {
    const item = o.table.get(uuid);
    const delivered = lastDelivered.get(uuid);
    const expectedLast = lastExpected.get(uuid);
    if (delivered !== undefined && expectedLast !== undefined && delivered.seq !== expectedLast.seq && onFailure === 0) {
      problem(`node ${uuid}: the last notification delivered is seq ${delivered.seq}, expected seq ${expectedLast.seq}`);
    }
    const state = item === undefined ? 'deleted' : softDeleted(item) === true ? 'soft-deleted' : 'live';
    if (last.expectation.kind === 'quarantine' || last.expectation.kind === 'on_failure') continue; // its last change is held for an operator
    if (state !== 'live') {
      if (delivered !== undefined && delivered.type !== 'compute_node.delete') {
        problem(`node ${uuid}: ${state} in the table, but its last notification is ${delivered.type} (seq ${delivered.seq})`);
      }
      continue;
    }
    if (Object.keys(problemsOf(item!, opts)).length > 0) continue; // live but invalid: its last valid state is what was notified
    if (delivered === undefined) {
      if (expectedLast !== undefined) problem(`node ${uuid}: live in the table, nothing delivered`);
      continue;
    }
    if (delivered.type === 'compute_node.delete') {
      problem(`node ${uuid}: live in the table, but its last notification is a delete (seq ${delivered.seq})`);
      continue;
    }
    const data = delivered.detail.payload['nova_object.data'];
    for (const field of watchedOf(withWatched)) {
      const inTable = meaning(item![field]);
      const value = data[field];
      const notified = value === null || value === undefined ? 'null' : typeof value === 'number' ? `n:${canonicalNumber(String(value))}` : `s:${String(value)}`;
      const resolution = opts.fieldResolutions?.[field];
      if (resolution !== undefined && inTable.startsWith('n:') && notified.startsWith('n:')) {
        const a = integerOf(inTable.slice(2));
        const b = integerOf(notified.slice(2));
        // Within the resolution is the promise for such a field; further is stale.
        if (a !== undefined && b !== undefined && (a > b ? a - b : b - a) < BigInt(resolution)) continue;
      }
      if (inTable !== notified) problem(`node ${uuid}: ${field} is ${inTable} in the table, ${notified} in the last notification (seq ${delivered.seq})`);
    }
  }

  // 5. A resync run never announces fewer nodes than its notifications are about (a consumer
  // would sweep while a live node's notification is still on its way).
  for (const [run, refreshed] of runEnds) {
    const nodes = new Set<string>();
    for (const { detail } of byMessage.values()) if (detail.change.resync_run === run) nodes.add(String(detail.payload['nova_object.data'].uuid));
    if (!(refreshed >= nodes.size)) problem(`resync run ${run} announced ${refreshed} nodes refreshed, its notifications are about ${nodes.size}`);
  }

  // 4. Nothing stuck.
  if (o.progress.read !== o.records.length) problem(`the event source mapping read ${o.progress.read} of the stream's ${o.records.length} records`);
  if (o.progress.done !== o.progress.read) problem(`${o.progress.read - o.progress.done} records read but not finished (a batch pending)`);

  let deliveries = 0;
  for (const m of byMessage.values()) deliveries += m.count;
  return {
    scenario: o.scenario,
    writes: o.writes,
    records: o.records.length,
    expected,
    deliveries,
    delivered: byMessage.size,
    duplicates: deliveries - byMessage.size,
    expectedQuarantined,
    quarantined: new Set(o.quarantined.map((b) => { const m = JSON.parse(b) as Record<string, unknown>; return `${String(m.eventID)}|${String(m.sequenceNumber)}`; })).size,
    onFailure,
    lost,
    violations,
  };
}

/** One line for a failed assertion: the counts and the first violations. */
export function describeReport(r: InvariantReport, max = 15): string {
  const head = `${r.scenario}: ${r.records} records, ${r.expected} notifications expected, ${r.delivered} delivered (+${r.duplicates} duplicates), ${r.quarantined}/${r.expectedQuarantined} quarantined, ${r.onFailure} on-failure, ${r.lost} lost`;
  return [head, ...r.violations.slice(0, max).map((v) => `  - ${v}`)].join('\n');
}

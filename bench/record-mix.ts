/**
 * Record-mix generator: Lambda DynamoDB stream events of any size and mix, built from the
 * typical compute nodes of Nova's reference vectors (each record gets its own node identity,
 * sequence number and time). Deterministic: the same arguments give the same event.
 *
 * @example
 * ```ts
 * const event = streamEvent(1_000, REALISTIC_MIX); // { Records: [...] }
 * ```
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { seededRandom } from '../local/seeded-random.js';

type Attr = Record<string, unknown>;
type Image = Record<string, Attr>;

/** Fractions of records by kind (they need not sum to exactly 1: counts are rounded, the rest are unwatched-only updates). */
export interface RecordMix {
  /** INSERT of a live node: one compute_node.create. */
  readonly create: number;
  /** MODIFY that changes watched fields (vcpus_used, running_vms) besides memory: one compute_node.update. */
  readonly watchedUpdate: number;
  /** MODIFY that changes only unwatched fields (memory_mb_used, free_ram_mb): suppressed, nothing sent. */
  readonly unwatchedUpdate: number;
  /** REMOVE: one compute_node.delete. */
  readonly delete: number;
  /** Records the notifier must quarantine: half a wrongly typed image (vector 42), half a broken envelope. */
  readonly invalid: number;
}

/**
 * The benchmark's realistic mix: mostly resource-tracker updates, a third of which touch a
 * watched field, some node churn, and a few bad records.
 */
export const REALISTIC_MIX: RecordMix = { create: 0.04, watchedUpdate: 0.3, unwatchedUpdate: 0.6, delete: 0.04, invalid: 0.02 };
/** The fleet estimate's mix: resource-tracker reports, a tenth of which change a watched field (see fleet.ts). */
export const FLEET_MIX: RecordMix = { create: 0, watchedUpdate: 0.1, unwatchedUpdate: 0.9, delete: 0, invalid: 0 };
export const CREATES_ONLY: RecordMix = { create: 1, watchedUpdate: 0, unwatchedUpdate: 0, delete: 0, invalid: 0 };

export const DEFAULT_FIXTURE_DIR = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'nova-reference');
const TEMPLATE_FILES = ['01_typical_libvirt_qemu.json', '02_typical_ironic_zero_resources.json', '03_typical_vmware.json', '04_typical_big_host.json'];
const INVALID_FILE = '42_coerced_inputs.json';
const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2026-11-26T00:00:00.000';
const T0 = 1_795_719_961;

interface Templates {
  readonly nodes: readonly Image[];
  readonly invalidNode: Image;
}

const cache = new Map<string, Templates>();

function createImage(file: string, dir: string): Image {
  const vector = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cases: { case: string; record: { dynamodb: { NewImage: Image } } }[] };
  const create = vector.cases.find((c) => c.case === 'create');
  if (create === undefined) throw new Error(`${file}: no create case`);
  return create.record.dynamodb.NewImage;
}

function templates(dir: string): Templates {
  let t = cache.get(dir);
  if (t === undefined) {
    t = { nodes: TEMPLATE_FILES.map((f) => createImage(f, dir)), invalidNode: createImage(INVALID_FILE, dir) };
    cache.set(dir, t);
  }
  return t;
}

/** A small deterministic PRNG. */
export const prng = seededRandom;

type Kind = keyof RecordMix | 'invalidEnvelope';

function kinds(n: number, mix: RecordMix, random: () => number): Kind[] {
  const count = (f: number) => Math.round(n * f);
  const invalid = count(mix.invalid);
  const list: Kind[] = [
    ...Array<Kind>(count(mix.create)).fill('create'),
    ...Array<Kind>(count(mix.watchedUpdate)).fill('watchedUpdate'),
    ...Array<Kind>(count(mix.delete)).fill('delete'),
    ...Array<Kind>(Math.ceil(invalid / 2)).fill('invalid'),
    ...Array<Kind>(Math.floor(invalid / 2)).fill('invalidEnvelope'),
  ].slice(0, n);
  while (list.length < n) list.push('unwatchedUpdate');
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

function uuidFor(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `5eed0000-0000-4000-8000-${hex}`;
}

function num(image: Image, name: string): number {
  const v = image[name]?.N;
  return typeof v === 'string' ? Number(v) : 0;
}

/** A node's image: the template's values with this node's identity (and optional overrides). */
function nodeImage(template: Image, i: number, overrides: Image = {}): Image {
  return {
    ...template,
    id: { N: String(i + 1) },
    uuid: { S: uuidFor(i) },
    host: { S: `compute-${i}` },
    hypervisor_hostname: { S: `compute-${i}.example.org` },
    ...overrides,
  };
}

export interface EventOptions {
  readonly seed?: number;
  readonly fixtureDir?: string;
  /** Replaces a payload string field with this many characters, to make ~N-byte entries (PutEvents size limits). */
  readonly padTo?: number;
}

/** One Lambda DynamoDB stream event of `n` records in the given mix. */
export function streamEvent(n: number, mix: RecordMix, opts: EventOptions = {}): { Records: Record<string, unknown>[] } {
  const random = prng(opts.seed ?? 42);
  const t = templates(opts.fixtureDir ?? DEFAULT_FIXTURE_DIR);
  const pad: Image = opts.padTo === undefined ? {} : { hypervisor_type: { S: 'Q'.repeat(opts.padTo) } };
  const records = kinds(n, mix, random).map((kind, i): Record<string, unknown> => {
    const template = t.nodes[i % t.nodes.length]!;
    const seq = String(100_000_000 + i).padStart(21, '0');
    const base = {
      eventID: `bench-${i}`,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: ARN,
    };
    const meta = {
      ApproximateCreationDateTime: T0 + Math.floor(i / 10),
      Keys: { uuid: { S: uuidFor(i) } },
      SequenceNumber: seq,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    };
    const node = nodeImage(template, i, pad);
    const size = (r: Record<string, unknown>) => JSON.stringify(r).length; // SizeBytes is informational only
    let record: Record<string, unknown>;
    switch (kind) {
      case 'create':
        record = { ...base, eventName: 'INSERT', dynamodb: { ...meta, NewImage: node } };
        break;
      case 'delete':
        record = { ...base, eventName: 'REMOVE', dynamodb: { ...meta, OldImage: node } };
        break;
      case 'watchedUpdate':
      case 'unwatchedUpdate': {
        const used = num(node, 'memory_mb_used');
        const total = num(node, 'memory_mb');
        const newUsed = Math.min(total, used + 512 + Math.floor(random() * 1024));
        const changes: Image = {
          memory_mb_used: { N: String(newUsed) },
          free_ram_mb: { N: String(total - newUsed) },
        };
        if (kind === 'watchedUpdate') {
          changes.vcpus_used = { N: String(num(node, 'vcpus_used') + 1) };
          changes.running_vms = { N: String(num(node, 'running_vms') + 1) };
        }
        record = { ...base, eventName: 'MODIFY', dynamodb: { ...meta, OldImage: node, NewImage: { ...node, ...changes } } };
        break;
      }
      case 'invalid':
        record = { ...base, eventName: 'INSERT', dynamodb: { ...meta, NewImage: nodeImage(t.invalidNode, i) } };
        break;
      case 'invalidEnvelope':
        // A sequence number that is not a decimal string: rejected at the envelope, before any image is read.
        record = { ...base, eventName: 'INSERT', dynamodb: { ...meta, SequenceNumber: `x${seq}`, NewImage: node } };
        break;
    }
    (record.dynamodb as Record<string, unknown>).SizeBytes = size(record);
    return record;
  });
  // What Lambda hands the function is parsed JSON: no shared sub-objects between records.
  return JSON.parse(JSON.stringify({ Records: records })) as { Records: Record<string, unknown>[] };
}

/** How many records of each kind an event of `n` records in `mix` holds (what the notifier should do with them). */
export function expectedOutcome(n: number, mix: RecordMix): { notifications: number; suppressed: number; quarantined: number } {
  const r = (f: number) => Math.round(n * f);
  const notifications = Math.min(n, r(mix.create) + r(mix.watchedUpdate) + r(mix.delete));
  const quarantined = Math.min(n - notifications, r(mix.invalid));
  return { notifications, suppressed: n - notifications - quarantined, quarantined };
}

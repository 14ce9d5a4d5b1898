/**
 * Every kind of invalid image, as one catalogue shared by the handler-level test, the
 * pipeline test and the soak: each case is a set of attribute overrides on a valid node and
 * what the oracle must expect of it (`undefined`: valid, notified as usual). The expectation
 * travels on the image itself (`fault_expect`), so the checker reads it from the stream.
 */
import type { Image, ImageProblems } from './invariants.js';
import { expectMarker, nodeItem, type FakeTable } from './support.js';

export interface BadInputCase {
  readonly name: string;
  readonly overrides: Record<string, Image[string] | undefined>;
  readonly problems?: ImageProblems;
}

const invalid = (...fields: string[]): ImageProblems => ({ invalid: fields });
const rejected = (code: string, ...fields: string[]): ImageProblems => ({ rejected: { code, fields } });

export const BAD_INPUT_CASES: readonly BadInputCase[] = [
  // Missing fields: required ones are invalid; nullable ones are null.
  { name: 'vcpus missing', overrides: { vcpus: undefined }, problems: invalid('vcpus') },
  { name: 'id missing', overrides: { id: undefined }, problems: invalid('id') },
  { name: 'hypervisor_type missing', overrides: { hypervisor_type: undefined }, problems: invalid('hypervisor_type') },
  { name: 'several fields missing', overrides: { memory_mb: undefined, local_gb: undefined, hypervisor_version: undefined }, problems: invalid('memory_mb', 'local_gb', 'hypervisor_version') },
  { name: 'host_ip missing (nullable)', overrides: { host_ip: undefined } },
  { name: 'running_vms NULL (nullable)', overrides: { running_vms: { NULL: true } } },
  // Wrong DynamoDB types.
  { name: 'vcpus as a string', overrides: { vcpus: { S: '8' } }, problems: invalid('vcpus') },
  { name: 'vcpus as a boolean', overrides: { vcpus: { BOOL: true } }, problems: invalid('vcpus') },
  { name: 'vcpus NULL (not nullable)', overrides: { vcpus: { NULL: true } }, problems: invalid('vcpus') },
  { name: 'vcpus as a list', overrides: { vcpus: { L: [{ N: '8' }] } }, problems: invalid('vcpus') },
  { name: 'vcpus as a map', overrides: { vcpus: { M: { n: { N: '8' } } } }, problems: invalid('vcpus') },
  { name: 'vcpus as a number set', overrides: { vcpus: { NS: ['8'] } }, problems: invalid('vcpus') },
  { name: 'vcpus as binary', overrides: { vcpus: { B: 'AAEC' } }, problems: invalid('vcpus') },
  { name: 'hypervisor_type as a number', overrides: { hypervisor_type: { N: '1' } }, problems: invalid('hypervisor_type') },
  { name: 'host as a number', overrides: { host: { N: '5' } }, problems: invalid('host') },
  { name: 'host_ip as a number', overrides: { host_ip: { N: '167772161' } }, problems: invalid('host_ip') },
  { name: 'free_ram_mb as a string', overrides: { free_ram_mb: { S: '1024' } }, problems: invalid('free_ram_mb') },
  { name: 'running_vms as a boolean', overrides: { running_vms: { BOOL: false } }, problems: invalid('running_vms') },
  { name: 'deleted as a string', overrides: { deleted: { S: 'yes' } }, problems: invalid('deleted') },
  { name: 'deleted a fraction', overrides: { deleted: { N: '0.5' } }, problems: invalid('deleted') },
  // Fractions, and integers however spelled.
  { name: 'vcpus 8.5', overrides: { vcpus: { N: '8.5' } }, problems: invalid('vcpus') },
  { name: 'local_gb 500.9', overrides: { local_gb: { N: '500.9' } }, problems: invalid('local_gb') },
  { name: 'vcpus_used 1E-1', overrides: { vcpus_used: { N: '1E-1' } }, problems: invalid('vcpus_used') },
  { name: 'memory_mb 16384.000001', overrides: { memory_mb: { N: '16384.000001' } }, problems: invalid('memory_mb') },
  { name: 'vcpus 1E-130', overrides: { vcpus: { N: '1E-130' } }, problems: invalid('vcpus') },
  { name: 'fractions in three fields', overrides: { vcpus: { N: '1.5' }, running_vms: { N: '0.1' }, free_disk_gb: { N: '2.25' } }, problems: invalid('vcpus', 'running_vms', 'free_disk_gb') },
  { name: 'vcpus 64.0 (an integer)', overrides: { vcpus: { N: '64.0' } } },
  { name: 'vcpus 0.00…1E+35 (an integer)', overrides: { vcpus: { N: '0.00000000000000000000000000000000001E+35' } } },
  // Numbers of any size: exact in the payload; EventBridge refuses what is outside 64 bits.
  { name: 'vcpus 2^63-1', overrides: { vcpus: { N: '9223372036854775807' } } },
  { name: 'vcpus -2^63', overrides: { vcpus: { N: '-9223372036854775808' } } },
  { name: 'vcpus 2^63', overrides: { vcpus: { N: '9223372036854775808' } }, problems: rejected('MalformedDetail', 'vcpus') },
  { name: 'memory_mb 1E+125', overrides: { memory_mb: { N: '1E+125' } }, problems: rejected('MalformedDetail', 'memory_mb') },
  { name: 'local_gb 38 digits', overrides: { local_gb: { N: '99999999999999999999999999999999999999' } }, problems: rejected('MalformedDetail', 'local_gb') },
  { name: 'hypervisor_version -2^63-1 (unwatched)', overrides: { hypervisor_version: { N: '-9223372036854775809' } }, problems: rejected('MalformedDetail', 'hypervisor_version') },
  // Invalid IP addresses.
  ...['999.1.1.1', '127.1', '010.0.0.1', '1.2.3.4 x', '::g', '1.2.3', '', ' 10.0.0.1', '10.0.0.1/24', '::ffff:1.2.3.4.5', '1:2:3:4:5:6:7:8:9', '256.0.0.1'].map(
    (ip): BadInputCase => ({ name: `host_ip ${JSON.stringify(ip)}`, overrides: { host_ip: { S: ip } }, problems: invalid('host_ip') }),
  ),
  { name: 'host_ip FE80::0:1 (valid IPv6)', overrides: { host_ip: { S: 'FE80::0:1' } } },
  // Too large for a PutEvents entry (under 256 KB as EventBridge counts it), and just under.
  { name: 'hypervisor_hostname 262,200 bytes', overrides: { hypervisor_hostname: { S: 'x'.repeat(262_200) } }, problems: rejected('EntryTooLarge', 'hypervisor_hostname') },
  { name: 'hypervisor_hostname 255,000 bytes', overrides: { hypervisor_hostname: { S: 'y'.repeat(255_000) } } },
  { name: 'an unnotified attribute of 300,000 bytes', overrides: { cpu_info: { S: 'z'.repeat(300_000) } } },
  // Text that is not valid Unicode (lone surrogates cannot be encoded as UTF-8), and text that is.
  // DynamoDB Local stores lone surrogates (its JSON escapes them) and streams them back as written.
  { name: 'hypervisor_hostname with a lone high surrogate', overrides: { hypervisor_hostname: { S: 'a\ud800b' } }, problems: invalid('hypervisor_hostname') },
  { name: 'host a lone low surrogate', overrides: { host: { S: '\udc00' } }, problems: invalid('host') },
  { name: 'hypervisor_type ending in a high surrogate', overrides: { hypervisor_type: { S: 'QEMU\udbff' } }, problems: invalid('hypervisor_type') },
  { name: 'hypervisor_hostname a reversed pair', overrides: { hypervisor_hostname: { S: '\udc00\ud800' } }, problems: invalid('hypervisor_hostname') },
  { name: 'hypervisor_hostname with an emoji, NUL, U+FFFE and U+2028', overrides: { hypervisor_hostname: { S: 'h\ud83d\ude00\u0000\ufffe\u2028.example.org' } } },
];

/** Invalid UUIDs: each a new node (the uuid is the table's key). */
export const BAD_UUIDS: readonly string[] = ['nope', '5eed0000-0000-0000-0000-00000000000', '5eed0000-0000-0000-0000-0000000000000', 'g'.repeat(32), ''.padEnd(36, '-')];

export interface WriteTarget {
  put(item: Image): Promise<unknown> | unknown;
  remove(uuid: string): Promise<unknown> | unknown;
}

/**
 * Writes every case twice over: as a change to a valid node (a MODIFY, then repaired), and as
 * a new node (an INSERT, then deleted). Returns the number of writes.
 */
export async function writeBadInput(target: WriteTarget, opts: { firstNode: number }): Promise<number> {
  let writes = 0;
  const cases = BAD_INPUT_CASES;
  const put = async (item: Image) => {
    writes++;
    await target.put(item);
  };
  const base = nodeItem(opts.firstNode);
  await put(base);
  let n = opts.firstNode + 1;
  for (const c of cases) {
    const marker = c.problems === undefined ? {} : expectMarker(c.problems);
    // A change to a live node, then the node repaired.
    await put(withOverrides(base, { ...c.overrides, ...marker }));
    await put({ ...base, running_vms: { N: String(n) } });
    // A new node, then deleted (its REMOVE carries the same problems where they touch id or uuid).
    const fresh = nodeItem(n++);
    await put(withOverrides(fresh, { ...c.overrides, ...marker }));
    writes++;
    await target.remove(fresh.uuid!.S as string);
  }
  for (const uuid of BAD_UUIDS) {
    await put({ ...nodeItem(n++), uuid: { S: uuid }, ...expectMarker({ invalid: ['uuid'] }) });
  }
  return writes;
}

function withOverrides(image: Image, overrides: Record<string, Image[string] | undefined>): Image {
  const out: Image = { ...image };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Records that are not well-formed stream records, or carry no images, and what must become of each. */
export function addBrokenRecords(table: FakeTable): void {
  let n = 900_000;
  const seq = () => String(++n).padStart(21, '0') + '';
  const record = (eventName: string, dynamodb: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const s = seq();
    return {
      eventID: `broken-${s.replace(/^0+/, '')}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/compute-nodes/stream/2026-11-26T00:00:00.000',
      dynamodb: { ApproximateCreationDateTime: 1_795_719_961, Keys: { uuid: { S: `broken-node-${n}` } }, SequenceNumber: s, StreamViewType: 'NEW_AND_OLD_IMAGES', ...dynamodb },
      ...extra,
    };
  };
  const image = nodeItem(999);
  const q = (...fields: string[]) => ({ kind: 'quarantine', reason: 'invalid_record', fields }) as const;
  const push = (r: Record<string, unknown>, e: Parameters<FakeTable['raw']>[1]) => table.raw(r, e);
  push(record('INSERT', {}), q('dynamodb.NewImage'));
  push(record('MODIFY', { NewImage: image }), q('dynamodb.OldImage'));
  push(record('MODIFY', {}), q('dynamodb.NewImage', 'dynamodb.OldImage'));
  push(record('REMOVE', {}), q('dynamodb.OldImage'));
  const noView = record('INSERT', {});
  delete (noView.dynamodb as Record<string, unknown>).StreamViewType;
  push(noView, q('dynamodb.NewImage'));
  push(record('UPSERT', { NewImage: image }), q('eventName'));
  push(record('INSERT', { NewImage: 'not an image' }), q('dynamodb.NewImage'));
  const noTime = record('INSERT', { NewImage: image });
  delete (noTime.dynamodb as Record<string, unknown>).ApproximateCreationDateTime;
  push(noTime, q('dynamodb.ApproximateCreationDateTime'));
  // A stream without images is a configuration error: the whole invocation fails, and Lambda
  // ends by writing the record to the on-failure destination.
  push(record('INSERT', { StreamViewType: 'KEYS_ONLY' }), { kind: 'on_failure', why: 'KEYS_ONLY stream' });
  push(record('MODIFY', { StreamViewType: 'NEW_IMAGE', NewImage: image }), { kind: 'on_failure', why: 'NEW_IMAGE stream' });
}

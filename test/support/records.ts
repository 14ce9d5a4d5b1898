/**
 * Stream records for tests: compute node images and the Lambda records that carry them.
 */
import type { AttributeValue } from 'aws-lambda';

export type Image = Record<string, AttributeValue>;

export const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2026-11-26T00:00:00.000';

/** A valid compute node image; `overrides` replace attributes, `undefined` removes one. */
export function nodeImage(n: number, overrides: Record<string, AttributeValue | undefined> = {}): Image {
  const image: Record<string, AttributeValue | undefined> = {
    id: { N: String(n) },
    uuid: { S: `5eed0000-0000-0000-0000-${n.toString(16).padStart(12, '0')}` },
    host: { S: `compute-${n}` },
    vcpus: { N: '8' },
    memory_mb: { N: '16384' },
    local_gb: { N: '500' },
    vcpus_used: { N: '2' },
    memory_mb_used: { N: '4096' },
    local_gb_used: { N: '40' },
    hypervisor_type: { S: 'QEMU' },
    hypervisor_version: { N: '6002000' },
    hypervisor_hostname: { S: `compute-${n}.example.org` },
    free_ram_mb: { N: '12288' },
    free_disk_gb: { N: '460' },
    current_workload: { N: '0' },
    running_vms: { N: '2' },
    disk_available_least: { N: '400' },
    host_ip: { S: '192.0.2.10' },
    ...overrides,
  };
  return Object.fromEntries(Object.entries(image).filter(([, v]) => v !== undefined)) as Image;
}

let seq = 1000;
/** Sequence numbers increase across the whole test run, as on a shard. */
export function nextSequence(): string {
  return String(++seq).padStart(21, '0');
}

interface RecordOptions {
  readonly sequence?: string;
  readonly time?: number;
  readonly ttl?: boolean;
}

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', images: { NewImage?: Image; OldImage?: Image }, opts: RecordOptions = {}) {
  const key = (images.NewImage ?? images.OldImage)?.uuid ?? { S: 'unknown' };
  const sequence = opts.sequence ?? nextSequence();
  return {
    eventID: `ev-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
    ...(opts.ttl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
    dynamodb: {
      ApproximateCreationDateTime: opts.time ?? 1795719961,
      Keys: { uuid: key },
      SequenceNumber: sequence,
      SizeBytes: 512,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...images,
    },
  };
}

export const insert = (image: Image, opts?: RecordOptions) => record('INSERT', { NewImage: image }, opts);
export const modify = (oldImage: Image, newImage: Image, opts?: RecordOptions) => record('MODIFY', { OldImage: oldImage, NewImage: newImage }, opts);
export const remove = (image: Image, opts?: RecordOptions) => record('REMOVE', { OldImage: image }, opts);
export type TestRecord = ReturnType<typeof insert>;

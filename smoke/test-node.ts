/**
 * The smoke test's compute node: a random UUID (122 random bits: it cannot clash with a real
 * node), marked as a test in its host names and a `smoke_test` attribute, with a TTL an hour
 * ahead so DynamoDB removes it even if the command is killed before its clean-up. The four
 * writes the check makes: create, a watched field changed, an unwatched field changed, delete.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';

export type Image = Record<string, AttributeValue>;

/** Numeric payload fields the check may change, in order of preference. */
const WATCHED_CANDIDATES = ['running_vms', 'vcpus_used', 'current_workload', 'local_gb_used', 'vcpus', 'memory_mb', 'local_gb', 'disk_available_least'] as const;
const UNWATCHED_CANDIDATES = ['hypervisor_version', 'free_ram_mb', 'free_disk_gb', 'memory_mb_used', 'vcpus_used', 'current_workload', 'local_gb_used'] as const;

export interface TestNode {
  readonly uuid: string;
  /** Short id of this run (names the temporary rule and queue). */
  readonly runId: string;
  readonly created: Image;
  /** `created` with `watchedField` changed. */
  readonly watchedUpdate: Image;
  /** `watchedUpdate` with `unwatchedField` changed (undefined when every candidate is watched). */
  readonly unwatchedUpdate: Image | undefined;
  readonly watchedField: string;
  readonly unwatchedField: string | undefined;
}

/** A new test node for these watched fields (the deployment's WATCHED_FIELDS). */
export function newTestNode(watchedFields: readonly string[] = SPEC_WATCHED_FIELDS, ttlAttribute = 'expires_at', now = Date.now()): TestNode {
  const uuid = randomUUID();
  const runId = uuid.slice(0, 8);
  const watchedField = WATCHED_CANDIDATES.find((f) => watchedFields.includes(f));
  if (watchedField === undefined) throw new Error(`none of ${WATCHED_CANDIDATES.join(', ')} is watched (WATCHED_FIELDS: ${watchedFields.join(', ')}): the check cannot make an update`);
  const unwatchedField = UNWATCHED_CANDIDATES.find((f) => !watchedFields.includes(f));
  const created: Image = {
    uuid: { S: uuid },
    id: { N: String(Number.parseInt(uuid.slice(0, 7), 16)) },
    host: { S: `smoke-test-${runId}` },
    vcpus: { N: '8' },
    memory_mb: { N: '16384' },
    local_gb: { N: '500' },
    vcpus_used: { N: '0' },
    memory_mb_used: { N: '512' },
    local_gb_used: { N: '0' },
    hypervisor_type: { S: 'QEMU' },
    hypervisor_version: { N: '8000000' },
    hypervisor_hostname: { S: `smoke-test-${runId}.invalid` },
    free_ram_mb: { N: '15872' },
    free_disk_gb: { N: '500' },
    current_workload: { N: '0' },
    running_vms: { N: '0' },
    disk_available_least: { N: '500' },
    host_ip: { S: '192.0.2.254' },
    smoke_test: { S: 'written by npm run smoke; removed by it, or by TTL' },
    [ttlAttribute]: { N: String(Math.floor(now / 1000) + 3600) },
  };
  const bump = (image: Image, field: string): Image => ({ ...image, [field]: { N: String(Number(image[field]!.N) + 1) } });
  const watchedUpdate = bump(created, watchedField);
  return {
    uuid,
    runId,
    created,
    watchedUpdate,
    unwatchedUpdate: unwatchedField === undefined ? undefined : bump(watchedUpdate, unwatchedField),
    watchedField,
    unwatchedField,
  };
}

/**
 * The indexer's read model in DynamoDB, with no CDK import: the stack builds the AWS table
 * from it and the tests create the same table in DynamoDB Local.
 *
 * One item per node (`uuid`): a live node with its payload and query keys, or a tombstone
 * (`state: deleted`, the order key of its delete) that keeps a late notification from
 * resurrecting it. The query keys are present only on live nodes, so every index is sparse:
 * tombstones are in none.
 *
 * Sort keys are sortable strings (`sortable-integer.ts`) of the free resource followed by
 * `#uuid`, so an order is total (ties broken by uuid), pages are stable, integers of any size
 * fit, and "at least N" is a key condition `k >= sortable(N)`.
 */

export const NODE_PARTITION_KEY = 'uuid';

/** Attribute names of an item. */
export const ATTR = {
  uuid: 'uuid',
  orderKey: 'order_key',
  messageId: 'message_id',
  state: 'state',
  eventType: 'event_type',
  origin: 'origin',
  cause: 'cause',
  timestamp: 'timestamp',
  payload: 'payload',
  payloadVersion: 'payload_version',
  hypervisorType: 'hypervisor_type',
  host: 'host',
  fleet: 'fleet',
  freeVcpus: 'free_vcpus',
  freeRamMb: 'free_ram_mb',
  freeDiskGb: 'free_disk_gb',
  kVcpus: 'k_vcpus',
  kRam: 'k_ram',
  kDisk: 'k_disk',
  /** The resync run whose notification set this state (absent: a stream notification). */
  resyncRun: 'resync_run',
  /** On a tombstone made by a resync's sweep: the run, and its threshold T (see resync-sweep.ts). */
  sweptBy: 'swept_by',
  sweptBefore: 'swept_before',
  // A resync run's progress item (`uuid` = `resync_run#<run id>`, state `resync_run`) and its
  // per-node "seen" items (`resync_run#<run id>#<node uuid>`, state `resync_seen`).
  seenCount: 'seen_count',
  minTimestamp: 'min_timestamp',
  endSeen: 'end_seen',
  refreshed: 'refreshed',
  startedAt: 'started_at',
  swept: 'swept',
  /** Where an unfinished sweep resumes: the Scan's last evaluated key, saved after each page. */
  sweepCursor: 'sweep_cursor',
  expiresAt: 'expires_at',
} as const;

/** `state` of an item: a node (live or tombstone), or a resync run's bookkeeping. */
export const STATE = { live: 'live', deleted: 'deleted', run: 'resync_run', seen: 'resync_seen' } as const;

/** The constant partition key of the fleet-wide indexes (every live node). */
export const FLEET = 'all';

export type SortResource = 'free_vcpus' | 'free_ram_mb' | 'free_disk_gb';
export const SORT_RESOURCES: readonly SortResource[] = ['free_vcpus', 'free_ram_mb', 'free_disk_gb'];

/** The sort-key attribute of each resource. */
export const SORT_KEY_OF: Record<SortResource, string> = { free_vcpus: ATTR.kVcpus, free_ram_mb: ATTR.kRam, free_disk_gb: ATTR.kDisk };

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Nodes of a hypervisor type, by free vCPUs / RAM / disk. */
export const TYPE_INDEXES: Record<SortResource, IndexDefinition> = {
  free_vcpus: { name: 'type-free-vcpus', partitionKey: ATTR.hypervisorType, sortKey: ATTR.kVcpus },
  free_ram_mb: { name: 'type-free-ram', partitionKey: ATTR.hypervisorType, sortKey: ATTR.kRam },
  free_disk_gb: { name: 'type-free-disk', partitionKey: ATTR.hypervisorType, sortKey: ATTR.kDisk },
};

/** Every live node, by free vCPUs / RAM / disk (constant partition key `fleet = all`). */
export const FLEET_INDEXES: Record<SortResource, IndexDefinition> = {
  free_vcpus: { name: 'fleet-free-vcpus', partitionKey: ATTR.fleet, sortKey: ATTR.kVcpus },
  free_ram_mb: { name: 'fleet-free-ram', partitionKey: ATTR.fleet, sortKey: ATTR.kRam },
  free_disk_gb: { name: 'fleet-free-disk', partitionKey: ATTR.fleet, sortKey: ATTR.kDisk },
};

/** The nodes of a host (a host has one node, or a few hundred for Ironic). */
export const HOST_INDEX: IndexDefinition = { name: 'host', partitionKey: ATTR.host, sortKey: ATTR.uuid };

export const ALL_INDEXES: readonly IndexDefinition[] = [...Object.values(TYPE_INDEXES), ...Object.values(FLEET_INDEXES), HOST_INDEX];

/** DynamoDB's limits on index key values: 2048 bytes for a partition key, 1024 for a sort key. */
export const MAX_INDEX_PARTITION_KEY_BYTES = 2048;
export const MAX_INDEX_SORT_KEY_BYTES = 1024;

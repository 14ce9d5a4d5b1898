/**
 * The payload fields the reference indexer reads (notification.ts derives its stored state and
 * query keys from them). The CDK construct makes the notifier watch them, so a change to any of
 * them becomes a `compute_node.update` and the read model never keeps a value staler than the
 * resolution declared below.
 */
import type { ComputeNodeField } from '../notifier/contract/index.js';

export const REFERENCE_INDEXER_READ_FIELDS: readonly ComputeNodeField[] = [
  'hypervisor_type',
  'host',
  'vcpus',
  'vcpus_used',
  'memory_mb',
  'memory_mb_used',
  'local_gb',
  'local_gb_used',
  'free_ram_mb',
  'free_disk_gb',
];

/**
 * The resolution the reference indexer can live with for its free-capacity fields, in their
 * units: free RAM and the memory used within 1 GB (1,024 MB) of the table. Hypervisor
 * overhead moves these two on most reports; a placement query ("≥ 32 GB free") does not need
 * them finer. Disk and vCPUs stay exact: they move only when instances come and go (and
 * `vcpus_used` and `local_gb_used` are the spec's watched fields, exact for every consumer).
 */
export const REFERENCE_INDEXER_RESOLUTIONS: Readonly<Partial<Record<ComputeNodeField, number>>> = {
  memory_mb_used: 1024,
  free_ram_mb: 1024,
};

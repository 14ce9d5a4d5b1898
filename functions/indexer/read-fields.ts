/**
 * The payload fields the reference indexer reads (notification.ts derives its stored state and
 * query keys from them). The CDK construct makes the notifier watch them, so a change to any of
 * them becomes a `compute_node.update` and the read model never keeps a stale value.
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

/**
 * The fields whose change makes a `compute_node.update` (the spec's note: "Notification will
 * be sent only if any of the specified fields changed to avoid unnecessary notifications
 * with the same content"). Deployments may watch a different subset of the payload fields.
 */
import type { ComputeNodeField } from './compute-node-payload.js';

export const SPEC_WATCHED_FIELDS: readonly ComputeNodeField[] = [
  'vcpus',
  'memory_mb',
  'local_gb',
  'vcpus_used',
  'local_gb_used',
  'hypervisor_hostname',
  'disk_available_least',
  'running_vms',
  'current_workload',
];

/** Nova soft-deletes a compute node by setting `deleted` to a non-zero value. */
export const SOFT_DELETE_ATTRIBUTE = 'deleted';

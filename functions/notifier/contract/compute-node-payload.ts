/**
 * ComputeNodePayload: the payload of `compute_node.create` and `compute_node.update`.
 *
 * Version history (bump `version` and add a line whenever a field is added or changes type):
 * - 1.0: Initial version (Nova spec "Add notifications for hypervisor", Newton).
 */
import { definePayload, type PayloadData } from './payload-definition.js';
import { IntegerField, IPAddressField, StringField, UUIDField } from './nova-fields.js';

export const ComputeNodePayload = definePayload({
  name: 'ComputeNodePayload',
  version: '1.0',
  fields: {
    id: IntegerField(),
    uuid: UUIDField(),
    host: StringField({ nullable: true }),
    vcpus: IntegerField(),
    memory_mb: IntegerField(),
    local_gb: IntegerField(),
    vcpus_used: IntegerField(),
    memory_mb_used: IntegerField(),
    local_gb_used: IntegerField(),
    hypervisor_type: StringField(),
    hypervisor_version: IntegerField(),
    hypervisor_hostname: StringField({ nullable: true }),
    free_ram_mb: IntegerField({ nullable: true }),
    free_disk_gb: IntegerField({ nullable: true }),
    current_workload: IntegerField({ nullable: true }),
    running_vms: IntegerField({ nullable: true }),
    disk_available_least: IntegerField({ nullable: true }),
    host_ip: IPAddressField({ nullable: true }),
  },
  // Nova's SCHEMA: every field comes from the compute node's attribute of the same name.
  source: {
    id: ['compute_node', 'id'],
    uuid: ['compute_node', 'uuid'],
    host: ['compute_node', 'host'],
    vcpus: ['compute_node', 'vcpus'],
    memory_mb: ['compute_node', 'memory_mb'],
    local_gb: ['compute_node', 'local_gb'],
    vcpus_used: ['compute_node', 'vcpus_used'],
    memory_mb_used: ['compute_node', 'memory_mb_used'],
    local_gb_used: ['compute_node', 'local_gb_used'],
    hypervisor_type: ['compute_node', 'hypervisor_type'],
    hypervisor_version: ['compute_node', 'hypervisor_version'],
    hypervisor_hostname: ['compute_node', 'hypervisor_hostname'],
    free_ram_mb: ['compute_node', 'free_ram_mb'],
    free_disk_gb: ['compute_node', 'free_disk_gb'],
    current_workload: ['compute_node', 'current_workload'],
    running_vms: ['compute_node', 'running_vms'],
    disk_available_least: ['compute_node', 'disk_available_least'],
    host_ip: ['compute_node', 'host_ip'],
  },
});

export type ComputeNodePayloadData = PayloadData<typeof ComputeNodePayload>;
export type ComputeNodeField = keyof typeof ComputeNodePayload.fields;

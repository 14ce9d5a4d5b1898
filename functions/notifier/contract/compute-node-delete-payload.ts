/**
 * ComputeNodeDeletePayload: the payload of `compute_node.delete`.
 *
 * Version history (bump `version` and add a line whenever a field is added or changes type):
 * - 1.0: Initial version (Nova spec "Add notifications for hypervisor", Newton).
 */
import { definePayload, type PayloadData } from './payload-definition.js';
import { IntegerField, UUIDField } from './nova-fields.js';

export const ComputeNodeDeletePayload = definePayload({
  name: 'ComputeNodeDeletePayload',
  version: '1.0',
  fields: {
    id: IntegerField(),
    uuid: UUIDField(),
  },
  source: {
    id: ['compute_node', 'id'],
    uuid: ['compute_node', 'uuid'],
  },
});

export type ComputeNodeDeletePayloadData = PayloadData<typeof ComputeNodeDeletePayload>;

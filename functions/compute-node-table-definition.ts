/**
 * The compute node table's shape, with no CDK import: the CDK construct builds the AWS
 * table from it and the local pipeline creates its DynamoDB Local table from it, so the
 * two cannot drift apart.
 */
export const COMPUTE_NODE_TABLE = {
  /** One item per compute node, keyed by Nova's compute node UUID. */
  partitionKey: { name: 'uuid', type: 'S' },
  /** The notifier diffs old and new images to find changed watched fields: it needs both. */
  streamViewType: 'NEW_AND_OLD_IMAGES',
  /** Default TTL attribute (epoch seconds); an expiry becomes a `compute_node.delete` with cause `ttl`. */
  timeToLiveAttribute: 'expires_at',
} as const;

export type ComputeNodeTableDefinition = typeof COMPUTE_NODE_TABLE;

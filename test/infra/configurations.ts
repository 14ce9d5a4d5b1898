/**
 * The configurations every deploy check covers (issue 20): the default, the AMQP bridge to an
 * existing broker, a new Amazon MQ broker (single instance and cluster), an existing table, key
 * and bus, and tracing with an alarm e-mail and source maps. Each is cdk.json's context plus
 * these overrides (buildTestApp).
 */

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'];

/** One configuration: a name for test titles and the context keys it overrides. */
export interface DeployConfiguration {
  readonly name: string;
  readonly context: Readonly<Record<string, unknown>>;
}

export const DEPLOY_CONFIGURATIONS: readonly DeployConfiguration[] = [
  { name: 'default', context: {} },
  {
    name: 'AMQP bridge to an existing broker',
    context: {
      amqpBridge: {
        endpoint: 'amqps://b-1234abcd-0000-0000-0000-000000000000.mq.eu-west-1.amazonaws.com:5671',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nova-mq-AbCdEf',
        credentialsSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1b6f8a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
        vpcId: VPC,
        subnetIds: SUBNETS.slice(0, 2),
      },
    },
  },
  { name: 'new Amazon MQ broker, single instance', context: { amqpBridge: { createBroker: true, vpcId: VPC, subnetIds: SUBNETS.slice(0, 2) } } },
  {
    name: 'new Amazon MQ broker, cluster',
    context: { amqpBridge: { createBroker: true, brokerDeploymentMode: 'CLUSTER_MULTI_AZ', vpcId: VPC, subnetIds: SUBNETS } },
  },
  {
    name: 'existing table, key and bus',
    context: {
      existingTableName: 'compute-nodes',
      existingTableStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/compute-nodes/stream/2026-01-01T00:00:00.000',
      existingTableStreamViewType: 'NEW_AND_OLD_IMAGES',
      existingTableKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/0b6f8a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
      existingEventBus: 'arn:aws:events:eu-west-1:123456789012:event-bus/nova-notifications',
    },
  },
  { name: 'tracing, alarm e-mail and source maps', context: { tracing: true, alarmEmail: 'ops@example.com', sourceMaps: true } },
  {
    // Issue 22: a queue, a topic (with its key) and a function of other accounts in the stack's region, a bus in another region.
    name: 'cross-account routes and consumer accounts',
    context: {
      account: '111111111111',
      region: 'eu-west-1',
      crossAccountRoutes: [
        { id: 'Search', targetArn: 'arn:aws:sqs:eu-west-1:222222222222:search-indexer', changedFields: ['running_vms'] },
        {
          id: 'Capacity',
          targetArn: 'arn:aws:sns:eu-west-1:222222222222:capacity',
          targetKeyArn: 'arn:aws:kms:eu-west-1:222222222222:key/0b6f8a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
        },
        { id: 'Scheduler', targetArn: 'arn:aws:lambda:eu-west-1:333333333333:function:scheduler:live', detailTypes: ['compute_node.delete'] },
        { id: 'Replica', targetArn: 'arn:aws:events:us-east-1:222222222222:event-bus/nova-replica' },
      ],
      consumerAccounts: ['222222222222', '333333333333'],
    },
  },
  {
    // Issue 22: an environment-agnostic stack (the queue's region asserted at deploy) and an organization's accounts.
    name: 'cross-account queue route, environment-agnostic, and a consumer organization',
    context: {
      crossAccountRoutes: [{ id: 'Search', targetArn: 'arn:aws:sqs:eu-west-1:222222222222:search-indexer' }],
      consumerOrganizationId: 'o-a1b2c3d4e5',
    },
  },
  {
    // Issue 22: an EventBridge global endpoint (the construct's health check, event replication to us-east-1).
    name: 'global endpoint',
    context: { account: '111111111111', region: 'eu-west-1', eventBusName: 'nova-notifications', globalEndpoint: { secondaryRegion: 'us-east-1' } },
  },
  {
    // What docs/deploying.md says to set in the regions lacking a resource (infra/regions.ts): with the
    // other configurations, every supported region is linted with a broker.
    name: 'no schema registry, no archive, an mq.m5 broker',
    context: { schemaRegistry: false, archive: false, amqpBridge: { createBroker: true, brokerInstanceType: 'mq.m5.large', vpcId: VPC, subnetIds: SUBNETS.slice(0, 2) } },
  },
];

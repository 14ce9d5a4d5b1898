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
];

/**
 * The `amqpBridge` key of `cdk.json`: the AMQP bridge of the bundled stack, as a JSON object
 * (with `-c`, its JSON text), turned into the construct's options by
 * {@link amqpBridgeOptionsFromContext}. Either an existing broker (`endpoint` and
 * `credentialsSecretArn`) or `createBroker: true`; always the VPC and subnets to run in.
 *
 * @example
 * ```sh
 * npx cdk synth -c amqpBridge='{"endpoint":"amqps://b-1234.mq.eu-west-1.amazonaws.com:5671",
 *   "credentialsSecretArn":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:nova-mq-AbCdEf",
 *   "vpcId":"vpc-0abc","subnetIds":["subnet-0a","subnet-0b"],"securityGroupId":"sg-0abc"}'
 * ```
 */
import { Duration, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { z } from 'zod';
import { BrokerUrl, DEFAULT_EXCHANGE, DEFAULT_TOPICS } from '../functions/amqp-bridge/config.js';
import { EVENT_TYPES } from '../functions/notifier/contract/index.js';
import type { AmqpBridgeOptions } from './amqp-bridge.js';
import { acknowledge } from './secure-resources.js';

const list = z.union([z.array(z.string()), z.string()]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

export const AmqpBridgeContextSchema = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v; // reported below as "expected object"
    }
  },
  z
    .strictObject({
      /** The existing broker's URL without credentials (e.g. Amazon MQ's `amqps://b-….mq.<region>.amazonaws.com:5671`). */
      endpoint: BrokerUrl.optional(),
      /** Secret with JSON `{"username", "password"}` for the existing broker. */
      credentialsSecretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:.+$/, 'must be a Secrets Manager secret ARN').optional(),
      /** The customer-managed key of that secret, if it has one (the function may then decrypt with it). */
      credentialsSecretKmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:/, 'must be a KMS key ARN').optional(),
      /** Create an Amazon MQ for RabbitMQ broker instead. */
      createBroker: bool.default(false),
      brokerInstanceType: z.string().regex(/^mq\.[a-z0-9]+\.[a-z0-9]+$/).optional(),
      brokerEngineVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional(),
      brokerDeploymentMode: z.enum(['SINGLE_INSTANCE', 'CLUSTER_MULTI_AZ']).optional(),
      vpcId: z.string().regex(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a VPC id (vpc-…)'),
      subnetIds: list.pipe(z.array(z.string().regex(/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be subnet ids (subnet-…)')).min(1, 'name at least one subnet')),
      /** The function's security group (which the broker allows); unset = a new one. */
      securityGroupId: z.string().regex(/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a security group id (sg-…)').optional(),
      secretsManagerEndpoint: bool.default(true),
      exchange: z.string().min(1).default(DEFAULT_EXCHANGE),
      topics: list.default([...DEFAULT_TOPICS]),
      durable: bool.default(false),
      quorumQueues: bool.default(false),
      detailTypes: list.pipe(z.array(z.enum(EVENT_TYPES as [string, ...string[]]))).optional(),
      changedFields: list.optional(),
      maxReceiveCount: z.coerce.number().int().min(1).max(1000).default(50),
    })
    .superRefine((c, ctx) => {
      const existing = c.endpoint !== undefined || c.credentialsSecretArn !== undefined;
      if (existing === c.createBroker) {
        ctx.addIssue({ code: 'custom', path: ['createBroker'], message: 'give either endpoint and credentialsSecretArn (an existing broker) or createBroker: true' });
      } else if (existing && (c.endpoint === undefined || c.credentialsSecretArn === undefined)) {
        ctx.addIssue({ code: 'custom', path: [c.endpoint === undefined ? 'endpoint' : 'credentialsSecretArn'], message: 'an existing broker needs both endpoint and credentialsSecretArn' });
      }
      if (c.createBroker && c.credentialsSecretKmsKeyArn !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['credentialsSecretKmsKeyArn'], message: 'belongs to an existing broker\'s secret; a new broker\'s secret is created here' });
      }
    }),
);

export type AmqpBridgeContext = z.infer<typeof AmqpBridgeContextSchema>;

/** The construct's options for a validated context value (the VPC, subnets and group imported by id). */
export function amqpBridgeOptionsFromContext(scope: Construct, c: AmqpBridgeContext): AmqpBridgeOptions {
  const subnets = c.subnetIds.map((id, i) => {
    const subnet = ec2.Subnet.fromSubnetId(scope, `AmqpBridgeSubnet${i}`, id);
    acknowledge(subnet, 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', 'The subnet only places the function, its endpoint and a new broker; no route is read or added.');
    return subnet;
  });
  // Imported by attributes, not looked up: synth makes no AWS call. Subnets are given
  // explicitly, so the VPC's own subnet and zone lists are never used.
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'AmqpBridgeVpc', { vpcId: c.vpcId, availabilityZones: Fn.getAzs() });
  acknowledge(vpc, 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones', 'Every use of the VPC names its subnets explicitly (amqpBridge.subnetIds).');
  return {
    vpc,
    subnets: { subnets },
    ...(c.securityGroupId === undefined ? {} : { securityGroup: ec2.SecurityGroup.fromSecurityGroupId(scope, 'AmqpBridgeSecurityGroup', c.securityGroupId, { mutable: false }) }),
    ...(c.createBroker
      ? {
          newBroker: {
            ...(c.brokerInstanceType === undefined ? {} : { instanceType: c.brokerInstanceType }),
            ...(c.brokerEngineVersion === undefined ? {} : { engineVersion: c.brokerEngineVersion }),
            ...(c.brokerDeploymentMode === undefined ? {} : { deploymentMode: c.brokerDeploymentMode }),
          },
        }
      : {
          broker: {
            endpoint: c.endpoint!,
            credentialsSecret: secretsmanager.Secret.fromSecretAttributes(scope, 'AmqpBridgeCredentials', {
              secretCompleteArn: c.credentialsSecretArn!,
              ...(c.credentialsSecretKmsKeyArn === undefined ? {} : { encryptionKey: kms.Key.fromKeyArn(scope, 'AmqpBridgeCredentialsKey', c.credentialsSecretKmsKeyArn) }),
            }),
          },
        }),
    secretsManagerEndpoint: c.secretsManagerEndpoint,
    exchange: c.exchange,
    topics: c.topics,
    durable: c.durable,
    quorumQueues: c.quorumQueues,
    maxReceiveCount: c.maxReceiveCount,
    timeout: Duration.seconds(30),
    ...(c.detailTypes === undefined ? {} : { detailTypes: c.detailTypes as AmqpBridgeOptions['detailTypes'] & string[] }),
    ...(c.changedFields === undefined ? {} : { changedFields: c.changedFields }),
  };
}

/**
 * The AMQP bridge: an indexer route's queue consumed by a function that publishes every
 * notification to an AMQP 0-9-1 broker exactly as Nova's `messagingv2` driver does
 * (functions/amqp-bridge/), so Searchlight and other oslo.messaging consumers read it
 * unchanged. The broker is an existing one (its endpoint and a Secrets Manager secret with the
 * credentials) or a new Amazon MQ for RabbitMQ broker created here.
 *
 * The function runs in the broker's VPC. From there it needs exactly two things: the broker
 * (AMQPS, port 5671 on Amazon MQ) and Secrets Manager (HTTPS) for the credentials, which a
 * VPC-attached function reaches only through a NAT gateway or an interface VPC endpoint
 * (Lambda developer guide, "Giving Lambda functions access to resources in an Amazon VPC",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, and "Enable internet
 * access for VPC-connected Lambda functions"; Secrets Manager user guide, "Using an AWS
 * Secrets Manager VPC endpoint",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/vpc-endpoint-overview.html).
 * By default an interface endpoint is created (no internet path needed); turn it off where
 * the VPC already has one with private DNS (a second one would conflict) or routes through a
 * NAT. SQS needs nothing inside the VPC: Lambda's event source mapping polls the queue and
 * deletes what the function reports done.
 */
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AMQP_BRIDGE_ENV, BrokerUrl, DEFAULT_EXCHANGE, DEFAULT_TOPICS } from '../functions/amqp-bridge/config.js';
import { BrokerLogGroup } from './broker-log-group.js';
import { BundledFunction } from './bundled-function.js';
import type { IndexerRouteFilter } from './indexer-route-pattern.js';
import { requireRegionOffers } from './region-check.js';
import { mqInstanceGap } from './regions.js';
import { acknowledge, keyStatement } from './secure-resources.js';
import { fileURLToPath } from 'node:url';

// Resolved here, not from bundled-function.ts's PROJECT_ROOT: that module imports
// hypervisor-notifier.ts, which imports this one, so its constants may not exist yet.
export const AMQP_BRIDGE_ENTRY = fileURLToPath(new URL('../functions/amqp-bridge/handler.ts', import.meta.url));
export { AMQP_BRIDGE_ROUTE_ID } from '../functions/amqp-bridge/config.js';

/** An existing broker. */
export interface ExistingAmqpBroker {
  /**
   * The broker's URL without credentials: `amqps://b-….mq.<region>.amazonaws.com:5671` for
   * Amazon MQ, `amqp(s)://host:port[/vhost]` for any RabbitMQ.
   */
  readonly endpoint: string;
  /** A secret whose value is JSON `{"username": "...", "password": "..."}`. */
  readonly credentialsSecret: secretsmanager.ISecret;
}

/** The new broker's default instance type: the smallest AWS sizes for production. */
export const DEFAULT_BROKER_INSTANCE_TYPE = 'mq.m7g.large';

/** RabbitMQ 4.2, which AWS recommends, where Amazon MQ offers it (mq.m7g); 3.13 on the other types. */
export function defaultEngineVersion(instanceType: string): string {
  return instanceType.startsWith('mq.m7g.') ? '4.2' : '3.13';
}

/** A new Amazon MQ for RabbitMQ broker, private to the VPC, with one user whose generated password is kept in a new secret. */
export interface NewAmqpBrokerOptions {
  /**
   * The broker's instance type. The default is the smallest AWS recommends for production
   * (Amazon MQ developer guide, "Amazon MQ for RabbitMQ sizing guidelines": mq.m7g.medium only
   * for testing, m7g.large and above for production).
   * @default DEFAULT_BROKER_INSTANCE_TYPE ('mq.m7g.large')
   */
  readonly instanceType?: string;
  /**
   * RabbitMQ version. AWS recommends 4.2, which Amazon MQ offers on mq.m7g only ("Managing
   * Amazon MQ for RabbitMQ engine versions"); on 4.2 a queue declared without a type is a
   * quorum queue.
   * @default '4.2' on an mq.m7g instance type, else '3.13'
   */
  readonly engineVersion?: string;
  /** `SINGLE_INSTANCE` (one subnet) or `CLUSTER_MULTI_AZ` (three nodes). @default 'SINGLE_INSTANCE' */
  readonly deploymentMode?: 'SINGLE_INSTANCE' | 'CLUSTER_MULTI_AZ';
  /** @default 'notifications' */
  readonly username?: string;
}

/**
 * Options of the bridge (`HypervisorNotifierProps.amqpBridge`); the filter selects what it
 * publishes, like any route, among Nova's compute_node notifications only: the heartbeats and
 * the resync runs' control events have no oslo form, so `heartbeats` and `resyncRunEvents` are
 * not among its options (and refused if given).
 */
export interface AmqpBridgeOptions extends Omit<IndexerRouteFilter, 'heartbeats' | 'resyncRunEvents'> {
  /** An existing broker. Give exactly one of `broker` and `newBroker`. */
  readonly broker?: ExistingAmqpBroker;
  /** Create an Amazon MQ for RabbitMQ broker. */
  readonly newBroker?: NewAmqpBrokerOptions;
  /** The VPC the broker is reachable from (where the function runs). */
  readonly vpc: ec2.IVpc;
  /** Subnets for the function (and a new broker). @default - the VPC's private subnets */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * The function's security group; the broker's must allow it on the AMQP port.
   * @default - a new group allowing outbound traffic to the broker's port and to the Secrets Manager endpoint only
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * Create an interface VPC endpoint for Secrets Manager with private DNS (see the file
   * comment). Not checked at synth (the VPC is imported by id, no lookup): its private DNS needs
   * the VPC's `enableDnsSupport` and `enableDnsHostnames` (EC2 API reference, CreateVpcEndpoint,
   * PrivateDnsEnabled, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html),
   * and a VPC that already has a Secrets Manager endpoint with private DNS refuses a second
   * one: in either case the deploy fails; set false there. @default true
   */
  readonly secretsManagerEndpoint?: boolean;
  /** Exchange (Nova's `control_exchange`). @default 'nova' */
  readonly exchange?: string;
  /** Topics (Nova's `[notifications] versioned_notifications_topics`). @default ['versioned_notifications'] */
  readonly topics?: readonly string[];
  /**
   * oslo's `amqp_durable_queues` of the broker's other clients (they declare the same queues).
   * false: transient queues, which a broker restart deletes with their notifications, confirmed
   * ones too; true: durable queues, confirmed notifications written to disk and kept (docs/amqp-bridge.md,
   * "Durable or not: a broker restart").
   * @default false (oslo's default)
   */
  readonly durable?: boolean;
  /** oslo's `rabbit_quorum_queue`. @default false */
  readonly quorumQueues?: boolean;
  /** Receives before a message moves to the route's dead-letter queue (a broker outage lasts about this × the visibility timeout). @default 50 */
  readonly maxReceiveCount?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Messages per invocation. @default 10 */
  readonly batchSize?: number;
  /** Concurrent invocations of the event source mapping (2–1000). @default 2 */
  readonly maxConcurrency?: number;
  /**
   * Retention of the bridge function's log group and of a new broker's general log group.
   * @default - the notifier's `logRetention` (HypervisorNotifier), which defaults to logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Source-mapped stack traces (infra/bundling-options.ts: costs cold-start time). @default false */
  readonly sourceMaps?: boolean;
}

export interface AmqpBridgeProps extends AmqpBridgeOptions {
  /** The bridge's route queue (its visibility timeout above the function's timeout). */
  readonly queue: sqs.IQueue;
}

export class AmqpBridgeConfigError extends Error {
  override readonly name = 'AmqpBridgeConfigError';
}

/** The visibility timeout the bridge's route queue needs: six times the function's timeout, as Lambda recommends for SQS sources. */
export function bridgeVisibilityTimeout(options: Pick<AmqpBridgeOptions, 'timeout'>): Duration {
  return Duration.seconds((options.timeout ?? Duration.seconds(30)).toSeconds() * 6);
}

export class AmqpBridge extends Construct {
  readonly bundled: BundledFunction;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The broker's URL (no credentials). */
  readonly endpoint: string;
  readonly credentialsSecret: secretsmanager.ISecret;
  /** The new broker, when one was created. */
  readonly broker: amazonmq.CfnBroker | undefined;
  /** The new broker's general log group (its retention), when a broker was created. */
  readonly brokerLogGroup: BrokerLogGroup | undefined;
  readonly secretsManagerEndpoint: ec2.InterfaceVpcEndpoint | undefined;

  constructor(scope: Construct, id: string, props: AmqpBridgeProps) {
    super(scope, id);
    // A JavaScript caller, or a spread of a route's options, may still pass them: a clear error, not a dropped option.
    for (const option of ['heartbeats', 'resyncRunEvents'] as const) {
      if ((props as IndexerRouteFilter)[option] === true) {
        throw new AmqpBridgeConfigError(`amqpBridge.${option}: the bridge publishes only compute_node notifications (oslo consumers know no other event); route these with an indexer route (addIndexerRoute)`);
      }
    }
    if ((props.broker === undefined) === (props.newBroker === undefined)) {
      throw new AmqpBridgeConfigError('amqpBridge: give exactly one of broker (an existing broker) and newBroker (create an Amazon MQ broker)');
    }
    if (props.broker !== undefined && !BrokerUrl.safeParse(props.broker.endpoint).success) {
      throw new AmqpBridgeConfigError(`amqpBridge.broker.endpoint: must be amqp://host:port[/vhost] or amqps://host:port[/vhost] without credentials, got '${props.broker.endpoint.replace(/\/\/[^@/]*@/, '//…@')}'`);
    }
    const subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const port = props.broker === undefined ? 5671 : Number(new URL(props.broker.endpoint).port || (props.broker.endpoint.startsWith('amqps:') ? 5671 : 5672));

    const ownGroup = props.securityGroup === undefined;
    this.securityGroup =
      props.securityGroup ??
      new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
        vpc: props.vpc,
        description: 'AMQP bridge function: out to the broker and Secrets Manager only',
        allowAllOutbound: false,
      });

    // ----- broker -----
    if (props.newBroker !== undefined) {
      const o = props.newBroker;
      const username = o.username ?? 'notifications';
      const secret = new secretsmanager.Secret(this, 'BrokerCredentials', {
        description: 'Amazon MQ broker user of the AMQP bridge: {"username", "password"}',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username }),
          generateStringKey: 'password',
          // Amazon MQ passwords: at least 12 characters, no commas, colons or equal signs.
          excludeCharacters: ',:=/@"\\\'%?#&[]{}<>|`^~ ',
          passwordLength: 32,
        },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'Amazon MQ keeps its own copy of the user password (set at broker creation); rotating the secret alone would lock the bridge out. Rotate by updating the broker user and the secret together.',
      );
      const brokerGroup = new ec2.SecurityGroup(this, 'BrokerSecurityGroup', {
        vpc: props.vpc,
        description: 'Amazon MQ broker of the AMQP bridge: AMQPS from the bridge function',
        allowAllOutbound: false,
      });
      brokerGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(5671), 'AMQPS from the AMQP bridge function');
      const mode = o.deploymentMode ?? 'SINGLE_INSTANCE';
      const instanceType = o.instanceType ?? DEFAULT_BROKER_INSTANCE_TYPE;
      const instanceGap = mqInstanceGap(instanceType);
      if (instanceGap !== undefined) requireRegionOffers(this, instanceGap);
      const subnetIds = props.vpc.selectSubnets(subnets).subnetIds;
      this.broker = new amazonmq.CfnBroker(this, 'Broker', {
        brokerName: `${Stack.of(this).stackName}-amqp`.slice(0, 50),
        engineType: 'RABBITMQ',
        engineVersion: o.engineVersion ?? defaultEngineVersion(instanceType),
        hostInstanceType: instanceType,
        deploymentMode: mode,
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        subnetIds: mode === 'SINGLE_INSTANCE' ? [Fn.select(0, subnetIds)] : subnetIds,
        securityGroups: [brokerGroup.securityGroupId],
        logs: { general: true },
        // A CloudFormation dynamic reference: the password is resolved at deploy time, never in the template.
        users: [{ username, password: secret.secretValueFromJson('password').unsafeUnwrap() }],
      });
      // Else Amazon MQ creates the group itself, without a retention, outside the stack.
      this.brokerLogGroup = new BrokerLogGroup(this, 'BrokerLogGroup', { broker: this.broker, retention: logRetention });
      // Amazon MQ for RabbitMQ's AMQPS endpoint: amqps://<broker-id>.mq.<region>.amazonaws.com:5671
      // (Amazon MQ developer guide, "Amazon MQ for RabbitMQ brokers", listener ports,
      // https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-basic-elements-broker.html).
      this.endpoint = `amqps://${this.broker.attrId}.mq.${Stack.of(this).region}.${Stack.of(this).urlSuffix}:5671`;
      this.credentialsSecret = secret;
      if (ownGroup) (this.securityGroup as ec2.SecurityGroup).addEgressRule(brokerGroup, ec2.Port.tcp(5671), 'AMQPS to the broker');
    } else {
      this.broker = undefined;
      this.brokerLogGroup = undefined;
      this.endpoint = props.broker!.endpoint;
      this.credentialsSecret = props.broker!.credentialsSecret;
      // The broker's address is not known here (a DNS name behind a load balancer).
      if (ownGroup) (this.securityGroup as ec2.SecurityGroup).addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), 'AMQP(S) to the broker');
    }

    // ----- Secrets Manager from inside the VPC -----
    this.secretsManagerEndpoint = undefined;
    if (props.secretsManagerEndpoint ?? true) {
      const endpointGroup = new ec2.SecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
        vpc: props.vpc,
        description: 'Secrets Manager endpoint of the AMQP bridge: HTTPS from the bridge function',
        allowAllOutbound: false,
      });
      endpointGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS from the AMQP bridge function');
      this.secretsManagerEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc: props.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets,
        securityGroups: [endpointGroup],
        privateDnsEnabled: true,
        open: false,
      });
      if (ownGroup) (this.securityGroup as ec2.SecurityGroup).addEgressRule(endpointGroup, ec2.Port.tcp(443), 'HTTPS to the Secrets Manager endpoint');
    } else if (ownGroup) {
      // Through the VPC's NAT or its own endpoint, whose address is not known here.
      (this.securityGroup as ec2.SecurityGroup).addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Secrets Manager');
    }

    // ----- function -----
    const timeout = props.timeout ?? Duration.seconds(30);
    this.bundled = new BundledFunction(this, 'Bridge', {
      entry: AMQP_BRIDGE_ENTRY,
      description: "AMQP bridge: publishes compute node notifications to the broker as Nova's messagingv2 driver does",
      roleDescription: 'AMQP bridge: consume its route queue, read the broker credentials, attach to the VPC',
      environment: {
        [AMQP_BRIDGE_ENV.brokerUrl]: this.endpoint,
        [AMQP_BRIDGE_ENV.credentialsSecretArn]: this.credentialsSecret.secretArn,
        [AMQP_BRIDGE_ENV.exchange]: props.exchange ?? DEFAULT_EXCHANGE,
        [AMQP_BRIDGE_ENV.topics]: (props.topics ?? DEFAULT_TOPICS).join(','),
        [AMQP_BRIDGE_ENV.durable]: String(props.durable ?? false),
        [AMQP_BRIDGE_ENV.quorumQueues]: String(props.quorumQueues ?? false),
      },
      memorySize: 256,
      timeout,
      logRetention,
      network: { vpc: props.vpc, vpcSubnets: subnets, securityGroups: [this.securityGroup] },
      sourceMaps: props.sourceMaps === true,
    });
    const b = this.bundled;
    b.allow('ConsumeRouteQueue', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [props.queue.queueArn]);
    // Through SQS only (kms:ViaService), as every role of the stack uses a key.
    if (props.queue.encryptionMasterKey !== undefined) b.role.addToPrincipalPolicy(keyStatement('DecryptRouteQueue', this, props.queue.encryptionMasterKey, ['kms:Decrypt'], ['sqs']));
    b.allow('ReadBrokerCredentials', ['secretsmanager:GetSecretValue'], [this.credentialsSecret.secretArn]);
    if (this.credentialsSecret.encryptionKey !== undefined) {
      b.role.addToPrincipalPolicy(keyStatement('DecryptBrokerCredentials', this, this.credentialsSecret.encryptionKey, ['kms:Decrypt'], ['secretsmanager']));
    }

    this.eventSourceMapping = b.function.addEventSourceMapping('RouteQueue', {
      eventSourceArn: props.queue.queueArn,
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: props.maxConcurrency ?? 2,
      reportBatchItemFailures: true,
    });
    this.eventSourceMapping.node.addDependency(b.role);
    acknowledge(
      this.eventSourceMapping,
      'Serverless-LambdaEventSourceMappingDestination',
      "An SQS event source mapping has no on-failure destination (Lambda supports them for stream and Kafka sources only); notifications the broker keeps refusing move to the route queue's dead-letter queue, alarmed.",
    );
    acknowledge(
      b.function,
      'Serverless-LambdaDLQ',
      "Invoked synchronously by its SQS event source mapping; unconfirmed notifications are redelivered and then moved by the route queue's redrive policy to its dead-letter queue (alarmed).",
    );
    acknowledge(b.function, 'Serverless-LambdaTracing', 'One AMQP publish per notification with publisher confirms; outcomes are logged per batch and failures reach the alarmed dead-letter queue.');
    // The role's network interface statement (bundled-function.ts, ManageVpcNetworkInterfaces).
    acknowledge(
      b.role.node.findChild('DefaultPolicy'),
      'AwsSolutions-IAM5[Resource::*]',
      'The network interface actions Lambda lists for a VPC-attached function (configuration-vpc); ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets work only on "*", and the interfaces Lambda creates have no ARN known at synth.',
    );
  }
}

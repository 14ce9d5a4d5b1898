/**
 * The AMQP bridge in the bundled stack (`-c amqpBridge=…`): its route, function in the VPC,
 * what the function may do and reach, the new Amazon MQ broker, and cdk-nag.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { AMQP_BRIDGE_ENV } from '../../functions/amqp-bridge/config.js';
import { AppContextError } from '../../infra/context.js';
import { HypervisorNotifier } from '../../infra/hypervisor-notifier.js';
import { buildTestApp, NOTIFIER_ONLY, SKIP_BUNDLING } from '../infra/helpers.js';

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nova-mq-AbCdEf';
const ENDPOINT = 'amqps://b-1234abcd-0000-0000-0000-000000000000.mq.eu-west-1.amazonaws.com:5671';
const EXISTING = { endpoint: ENDPOINT, credentialsSecretArn: SECRET, vpcId: VPC, subnetIds: SUBNETS };

function build(amqpBridge: unknown) {
  const built = buildTestApp({ ...NOTIFIER_ONLY, exampleRoute: false, amqpBridge });
  return { built, template: Template.fromStack(built.stack) };
}

function expectNagClean(built: ReturnType<typeof buildTestApp>) {
  for (const pack of built.nagPacks) expect(pack.validateScope(built.app).violations, pack.name).toEqual([]);
}

describe('existing broker', () => {
  // As -c passes it: JSON text.
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/0b6f8a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
  const { built, template } = build(JSON.stringify({ ...EXISTING, credentialsSecretKmsKeyArn: KEY, changedFields: 'running_vms,vcpus', topics: 'versioned_notifications,searchlight' }));

  it("runs the function in the given subnets with the broker's endpoint and secret, Nova's exchange and the topics", () => {
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [AMQP_BRIDGE_ENV.brokerUrl]: ENDPOINT } } } });
    const [fn] = Object.values(fns) as { Properties: { Environment: { Variables: Record<string, string> }; VpcConfig: { SubnetIds: string[] } } }[];
    expect(fn!.Properties.VpcConfig.SubnetIds).toEqual(SUBNETS);
    expect(fn!.Properties.Environment.Variables).toMatchObject({
      [AMQP_BRIDGE_ENV.credentialsSecretArn]: SECRET,
      [AMQP_BRIDGE_ENV.exchange]: 'nova',
      [AMQP_BRIDGE_ENV.topics]: 'versioned_notifications,searchlight',
      [AMQP_BRIDGE_ENV.durable]: 'false',
    });
  });

  it('is fed by a route filtered like any route, with partial batch responses and a dead-letter queue that is alarmed', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['compute_node.update'], detail: { change: { changed_fields: ['running_vms', 'vcpus'] } } },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 2 } });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 50 }, VisibilityTimeout: 180 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('AmqpBridge.*dead-letter queue') });
  });

  it('may read exactly that secret, and reaches Secrets Manager through an interface endpoint', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'ReadBrokerCredentials', Action: 'secretsmanager:GetSecretValue', Resource: SECRET }),
          Match.objectLike({ Sid: 'DecryptBrokerCredentials', Action: 'kms:Decrypt', Resource: KEY }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcId: VPC, VpcEndpointType: 'Interface', PrivateDnsEnabled: true, SubnetIds: SUBNETS });
    // Its own group may only go out to the broker's port and the endpoint's.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('out to the broker'), SecurityGroupEgress: [Match.objectLike({ FromPort: 5671, ToPort: 5671 })] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 443, ToPort: 443 });
  });

  it('cdk-nag: no unacknowledged finding', () => expectNagClean(built));
});

describe('new Amazon MQ broker', () => {
  const { built, template } = build({ createBroker: true, vpcId: VPC, subnetIds: SUBNETS, securityGroupId: 'sg-0123456789abcdef0', secretsManagerEndpoint: false, durable: true });

  it('durable: true reaches the function (durable exchange and queues; oslo\'s transient ones stay the default)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [AMQP_BRIDGE_ENV.durable]: 'true' }) } });
  });

  it('creates a private RabbitMQ broker whose generated password never appears in the template', () => {
    template.hasResourceProperties('AWS::AmazonMQ::Broker', { EngineType: 'RABBITMQ', PubliclyAccessible: false, DeploymentMode: 'SINGLE_INSTANCE', SubnetIds: [SUBNETS[0]] });
    const broker = Object.values(template.findResources('AWS::AmazonMQ::Broker'))[0] as { Properties: { Users: { Password: unknown }[] } };
    expect(JSON.stringify(broker.Properties.Users[0]!.Password)).toContain('{{resolve:secretsmanager:');
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it('lets the given function group in on AMQPS only', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5671, ToPort: 5671, SourceSecurityGroupId: 'sg-0123456789abcdef0' });
  });

  it('cdk-nag: no unacknowledged finding', () => expectNagClean(built));
});

describe('cdk.json amqpBridge', () => {
  it.each([
    [{ vpcId: VPC, subnetIds: SUBNETS }, /give either endpoint and credentialsSecretArn .* or createBroker: true/],
    [{ ...EXISTING, createBroker: true }, /give either endpoint/],
    [{ ...EXISTING, credentialsSecretArn: undefined }, /needs both endpoint and credentialsSecretArn/],
    [{ ...EXISTING, endpoint: 'amqps://user:pass@b-1.mq.eu-west-1.amazonaws.com:5671' }, /amqpBridge\.endpoint: must be .* without credentials/],
    [{ ...EXISTING, subnetIds: ['subnet-xyz'] }, /subnetIds.*subnet ids/],
    ['{not json', /amqpBridge/],
  ])('refuses %j, naming the problem', (value, message) => {
    expect(() => build(value)).toThrow(AppContextError);
    expect(() => build(value)).toThrow(message);
  });
});

describe('source maps', () => {
  const bridgeNodeOptions = (t: Template) => {
    const fns = t.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [AMQP_BRIDGE_ENV.brokerUrl]: ENDPOINT } } } });
    const [fn] = Object.values(fns) as { Properties: { Environment: { Variables: Record<string, string> } } }[];
    return fn!.Properties.Environment.Variables.NODE_OPTIONS;
  };

  it("are off for the bridge by default, and on with the stack's sourceMaps", () => {
    expect(bridgeNodeOptions(build(EXISTING).template)).toBeUndefined();
    const on = buildTestApp({ ...NOTIFIER_ONLY, exampleRoute: false, amqpBridge: EXISTING, sourceMaps: true });
    expect(bridgeNodeOptions(Template.fromStack(on.stack))).toBe('--enable-source-maps');
  });
});

describe('amqpBridge in a user stack', () => {
  /** The construct given amqpBridge with `extra` (as a JavaScript caller or a spread of route options may). */
  const construct = (extra: object) => {
    const app = new App({ context: SKIP_BUNDLING });
    const stack = new Stack(app, 'User', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: VPC, availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: SUBNETS });
    const credentialsSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', SECRET);
    // Outside the type on purpose: the bridge's options are a route filter without these two.
    const amqpBridge = { broker: { endpoint: ENDPOINT, credentialsSecret }, vpc, ...extra } as never;
    return new HypervisorNotifier(stack, 'N', { redrive: false, heartbeat: false, amqpBridge });
  };

  it.each([
    [{ heartbeats: true }, /amqpBridge\.heartbeats: .*only compute_node/],
    [{ resyncRunEvents: true }, /amqpBridge\.resyncRunEvents: .*only compute_node/],
  ])('refuses %j rather than drop it: the bridge publishes only Nova notifications', (extra, message) => {
    expect(() => construct(extra)).toThrow(message);
  });

  it('builds with neither', () => {
    expect(construct({ heartbeats: false }).amqpBridge).toBeDefined();
  });
});

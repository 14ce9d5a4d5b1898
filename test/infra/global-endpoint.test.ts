/**
 * The global endpoint option (issue 22): an `AWS::Events::Endpoint` over the bus and the bus of
 * the same name in the secondary region, with event replication through a role allowed only
 * PutEvents on those two buses, failover on a Route 53 health check (the construct's, on
 * AWS's latency alarm, or one given), and the notifier, only it, told the endpoint id and allowed
 * to put events on the secondary bus. Nothing of it without the option.
 */
import { describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { bundlingOptions } from '../../infra/bundling-options.js';
import { HypervisorNotifier, NOTIFIER_ENTRY, type HypervisorNotifierProps } from '../../infra/hypervisor-notifier.js';
import { buildTestApp, renderRefs, SKIP_BUNDLING, synthNotifier } from './helpers.js';

type Json = Record<string, any>;
const OURS = { account: '111111111111', region: 'eu-west-1' };
const SECONDARY_BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/nova-notifications';

function synth(props: HypervisorNotifierProps, name = 'Primary'): ReturnType<typeof synthNotifier> {
  return synthNotifier({ eventBusName: 'nova-notifications', ...props }, name, OURS);
}

const statementsOf = (t: Template, roleId: string): Json[] =>
  Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: Json) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
    .flatMap((p: Json) => renderRefs(p.Properties.PolicyDocument.Statement) as Json[]);

describe('global endpoint', () => {
  it('an endpoint over both buses with replication, failover on the construct health check, the notifier publishing through it', () => {
    const { t, stack, notifier } = synth({ globalEndpoint: { secondaryRegion: 'us-east-1' } });
    const endpoints = Object.entries(t.findResources('AWS::Events::Endpoint'));
    expect(endpoints).toHaveLength(1);
    const [endpointId, endpoint] = endpoints[0]! as [string, Json];
    const p = renderRefs(endpoint.Properties) as Json;
    const busId = stack.getLogicalId(notifier.eventBus.node.defaultChild as any);
    expect(p.EventBuses).toEqual([{ EventBusArn: `<${busId}.Arn>` }, { EventBusArn: SECONDARY_BUS }]);
    expect(p.ReplicationConfig).toEqual({ State: 'ENABLED' });
    expect(p.RoutingConfig.FailoverConfig.Secondary).toEqual({ Route: 'us-east-1' });

    // The health check: CLOUDWATCH_METRIC on AWS's latency alarm, missing data breaching.
    const [checkId, check] = Object.entries(t.findResources('AWS::Route53::HealthCheck'))[0]! as [string, Json];
    expect(p.RoutingConfig.FailoverConfig.Primary).toEqual({ HealthCheck: `arn:aws:route53:::healthcheck/<${checkId}.HealthCheckId>` });
    const alarmRef = check.Properties.HealthCheckConfig.AlarmIdentifier.Name.Ref as string;
    expect(check.Properties.HealthCheckConfig).toMatchObject({ Type: 'CLOUDWATCH_METRIC', AlarmIdentifier: { Region: 'eu-west-1' } });
    expect(t.toJSON().Resources[alarmRef].Properties).toMatchObject({
      MetricName: 'IngestionToInvocationStartLatency',
      Namespace: 'AWS/Events',
      Statistic: 'Average',
      Threshold: 30000,
      EvaluationPeriods: 5,
      TreatMissingData: 'breaching',
    });

    // Replication: the role may only put events on the two buses of that name.
    const replicationRoleId = endpoint.Properties.RoleArn['Fn::GetAtt'][0] as string;
    expect(t.toJSON().Resources[replicationRoleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } },
    ]);
    expect(statementsOf(t, replicationRoleId)).toEqual([
      { Sid: 'ReplicateToBothBuses', Action: 'events:PutEvents', Effect: 'Allow', Resource: [`<${busId}.Arn>`, SECONDARY_BUS] },
    ]);

    // The notifier: GLOBAL_ENDPOINT_ID and PutEvents on the secondary bus; the redrive is not told.
    const functions = Object.values(t.findResources('AWS::Lambda::Function')) as Json[];
    const told = functions.filter((f) => f.Properties.Environment?.Variables?.GLOBAL_ENDPOINT_ID !== undefined);
    expect(told).toHaveLength(1);
    expect(told[0]!.Properties.Environment.Variables.GLOBAL_ENDPOINT_ID).toEqual({ 'Fn::GetAtt': [endpointId, 'EndpointId'] });
    const notifierRoleId = stack.getLogicalId(notifier.role.node.defaultChild as any);
    expect(told[0]!.Properties.Role['Fn::GetAtt'][0]).toBe(notifierRoleId);
    expect(statementsOf(t, notifierRoleId)).toContainEqual({ Sid: 'PublishThroughGlobalEndpoint', Action: 'events:PutEvents', Effect: 'Allow', Resource: SECONDARY_BUS });
  });

  it('a health check of your own replaces the construct one', () => {
    const arn = 'arn:aws:route53:::healthcheck/1a2b3c4d-0000-0000-0000-000000000000';
    const { t } = synth({ globalEndpoint: { secondaryRegion: 'us-east-1', healthCheckArn: arn } });
    t.resourceCountIs('AWS::Route53::HealthCheck', 0);
    t.hasResourceProperties('AWS::Events::Endpoint', { RoutingConfig: { FailoverConfig: { Primary: { HealthCheck: arn } } } });
  });

  it('without the option: no endpoint, no health check, no GLOBAL_ENDPOINT_ID', () => {
    const { t } = synth({});
    t.resourceCountIs('AWS::Events::Endpoint', 0);
    t.resourceCountIs('AWS::Route53::HealthCheck', 0);
    const functions = Object.values(t.findResources('AWS::Lambda::Function')) as Json[];
    expect(functions.some((f) => f.Properties.Environment?.Variables?.GLOBAL_ENDPOINT_ID !== undefined)).toBe(false);
  });

  it('refuses a bus name unknown at synth, its own region as secondary, a bad region or health check', () => {
    let n = 0;
    const refuse = (props: HypervisorNotifierProps, re: RegExp): void => {
      const stack = new Stack(new App({ context: SKIP_BUNDLING }), `Bad${n++}`, { env: OURS });
      expect(() => new HypervisorNotifier(stack, 'Notifier', props)).toThrow(re);
    };
    refuse({ globalEndpoint: { secondaryRegion: 'us-east-1' } }, /set eventBusName/);
    refuse({ eventBusName: 'b', globalEndpoint: { secondaryRegion: 'eu-west-1' } }, /stack's own region eu-west-1/);
    refuse({ eventBusName: 'b', globalEndpoint: { secondaryRegion: 'virginia' } }, /'virginia' is not a region name/);
    refuse({ eventBusName: 'b', globalEndpoint: { secondaryRegion: 'us-east-1', healthCheckArn: 'hc-1' } }, /not a Route 53 health check ARN/);
  });

  it('globalEndpoint in cdk.json (JSON text with -c) reaches the stack', () => {
    const { stack } = buildTestApp({ eventBusName: 'nova-notifications', globalEndpoint: JSON.stringify({ secondaryRegion: 'us-east-1' }) });
    expect(stack.notifier.globalEndpoint?.secondaryBusArn).toBeDefined();
    expect(() => buildTestApp({ eventBusName: 'b', globalEndpoint: { secondaryRegion: 'x' } })).toThrow(/globalEndpoint\.secondaryRegion: must be a region name/);
  });
});

describe('the SigV4a signer is in the notifier bundle only with a global endpoint', () => {
  /** The notifier bundled with the construct's externals for the choice (as NodejsFunction's esbuild would). */
  async function bundle(globalEndpoint: boolean): Promise<string> {
    const { bundling } = bundlingOptions({ sourceMaps: false, tracing: false, globalEndpoint });
    const out = await build({
      entryPoints: [NOTIFIER_ENTRY],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      mainFields: [...(bundling.mainFields ?? [])],
      external: [...(bundling.externalModules ?? [])],
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0]!.text;
  }

  it('off: left out (only the import the handler never reaches); on: bundled', async () => {
    const off = await bundle(false);
    expect(off).toContain('"@aws-sdk/signature-v4a"');
    expect(off).not.toContain('AWS4-ECDSA-P256-SHA256');
    const on = await bundle(true);
    expect(on).toContain('AWS4-ECDSA-P256-SHA256');
    expect(on.length - off.length).toBeGreaterThan(10_000);
  }, 120_000);
});

/**
 * `consumerAccounts` / `consumerOrganizationId` (issue 22): the bus policy lets those principals
 * manage only the rules they created (`events:creatorAccount`) selecting only our source, on this
 * bus only; the registry policy lets them read schemas and code bindings, nothing that changes a
 * schema; no statement broader than that, and nothing at all without the option.
 */
import { describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { CONSUMER_RULE_ACTIONS, CONSUMER_SCHEMA_ACTIONS } from '../../infra/consumer-accounts.js';
import type { HypervisorNotifierProps } from '../../infra/hypervisor-notifier.js';
import { renderRefs, synthNotifier } from './helpers.js';

type Json = Record<string, any>;
const OURS = { account: '111111111111', region: 'eu-west-1' };

function synth(props: HypervisorNotifierProps, name = 'Owner'): ReturnType<typeof synthNotifier> {
  return synthNotifier({ redrive: false, eventSource: 'example.nova', ...props }, name, OURS);
}

const busStatements = (t: Template): Json[] => Object.values(t.findResources('AWS::Events::EventBusPolicy')).map((p: Json) => renderRefs(p.Properties.Statement) as Json);
const registryStatements = (t: Template): Json[] =>
  Object.values(t.findResources('AWS::EventSchemas::RegistryPolicy')).flatMap((p: Json) => renderRefs(p.Properties.Policy.Statement) as Json[]);

describe('consumer accounts', () => {
  it('accounts: manage only rules they created, selecting only our source, on this bus; read the registry', () => {
    const { t, stack, notifier } = synth({ consumerAccounts: ['333333333333', '222222222222', '333333333333'] });
    const all = busStatements(t);
    expect(all).toHaveLength(1);
    const bus = all[0]!;
    const busId = stack.getLogicalId(notifier.eventBus.node.defaultChild as any);
    expect(bus).toEqual({
      Sid: 'ConsumerAccountsManageOwnRules',
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
      Action: [...CONSUMER_RULE_ACTIONS],
      Resource: `arn:aws:events:eu-west-1:111111111111:rule/<${busId}>/*`,
      Condition: { StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}', 'events:source': 'example.nova' } },
    });
    // Nothing that sends events on our bus, changes the bus or its policy.
    expect(bus.Action).not.toContain('events:PutEvents');
    expect((bus.Action as string[]).some((a) => a.includes('*'))).toBe(false);

    const registries = registryStatements(t);
    expect(registries).toHaveLength(1);
    const registry = registries[0]!;
    expect(registry.Principal).toEqual(bus.Principal);
    expect(registry.Action).toEqual([...CONSUMER_SCHEMA_ACTIONS]);
    for (const a of registry.Action as string[]) expect(a).not.toMatch(/\*|Create|Update|Delete|Policy/);
    expect(registry.Resource).toHaveLength(2);
    expect(registry.Condition).toBeUndefined();
  });

  it('organization: any principal of the organization only (aws:PrincipalOrgID), same limits', () => {
    const { t } = synth({ consumerOrganizationId: 'o-a1b2c3d4e5' });
    const [bus] = busStatements(t);
    expect(bus!.Principal).toEqual({ AWS: '*' });
    expect(bus!.Condition).toEqual({
      StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}', 'events:source': 'example.nova' },
      StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
    });
    const [registry] = registryStatements(t);
    expect(registry!.Principal).toEqual({ AWS: '*' });
    expect(registry!.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } });
  });

  it('without the option: no bus or registry policy', () => {
    const { t } = synth({});
    t.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    t.resourceCountIs('AWS::EventSchemas::RegistryPolicy', 0);
  });

  it('refuses a bad account id, our own account, an empty list, a bad organization id, and both at once', () => {
    let n = 0;
    const refuse = (props: HypervisorNotifierProps, re: RegExp): void => {
      expect(() => synth(props, `Bad${n++}`)).toThrow(re);
    };
    refuse({ consumerAccounts: ['12345'] }, /consumerAccounts: '12345' is not a 12-digit account id/);
    refuse({ consumerAccounts: ['111111111111'] }, /own account/);
    refuse({ consumerAccounts: [] }, /consumerAccounts is empty/);
    refuse({ consumerOrganizationId: 'org-1' }, /consumerOrganizationId: 'org-1' is not an AWS Organizations id/);
    refuse({ consumerAccounts: ['222222222222'], consumerOrganizationId: 'o-a1b2c3d4e5' }, /not both/);
  });
});

/**
 * A function attached to a VPC can only be created when its execution role may manage the
 * network interfaces Lambda makes for it (Lambda developer guide, "Giving Lambda functions
 * access to resources in an Amazon VPC", configuration-vpc: ec2:CreateNetworkInterface,
 * ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets, ec2:DeleteNetworkInterface,
 * ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses; the Describe actions work only
 * on `"Resource": "*"`). CDK attaches AWSLambdaVPCAccessExecutionRole only to a role it creates
 * itself, so every function with a `VpcConfig`, in every configuration, is checked here: its
 * role grants each action, and the function is created after the policy that grants it.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEPLOY_CONFIGURATIONS } from './configurations.js';
import { buildTestApp } from './helpers.js';

// The synthesized template is untyped CloudFormation JSON: `any` where the test walks into it.
type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] | string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** What Lambda's VPC page lists for the execution role (the AWSLambdaVPCAccessExecutionRole actions, logs aside). */
const VPC_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
const VPC_MANAGED_POLICY = /:iam::aws:policy\/service-role\/AWSLambdaVPCAccessExecutionRole/;

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const allowsEverywhere = (s: Statement, action: string) =>
  s.Effect === 'Allow' && s.Condition === undefined && asList(s.Action).some((a) => a === action || a === 'ec2:*' || a === '*') && asList(s.Resource).includes('*');

/** For each VPC-attached function of a template: the VPC actions its role lacks, and the granting policies the function does not wait for. */
function vpcAccessProblems(resources: Record<string, Resource>): { functions: number; problems: string[] } {
  const problems: string[] = [];
  let functions = 0;
  for (const [fnId, fn] of Object.entries(resources)) {
    if (fn.Type !== 'AWS::Lambda::Function' || fn.Properties.VpcConfig === undefined) continue;
    functions++;
    const roleId = (fn.Properties.Role as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
    const role = roleId === undefined ? undefined : resources[roleId];
    if (roleId === undefined || role === undefined) {
      problems.push(`${fnId}: its role is not a role of this template`);
      continue;
    }
    if (asList(role.Properties.ManagedPolicyArns).some((arn) => VPC_MANAGED_POLICY.test(JSON.stringify(arn)))) continue;
    const sources: { id: string | undefined; statements: Statement[] }[] = [
      ...asList(role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]).map((p) => ({ id: undefined, statements: p.PolicyDocument.Statement })),
      ...Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && asList(r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
        .map(([id, r]) => ({ id, statements: r.Properties.PolicyDocument.Statement as Statement[] })),
    ];
    for (const action of VPC_ACTIONS) {
      const granting = sources.filter((src) => src.statements.some((s) => allowsEverywhere(s, action)));
      if (granting.length === 0) problems.push(`${fnId}: role ${roleId} lacks ${action} on "*"`);
      else if (!granting.some((src) => src.id === undefined || asList(fn.DependsOn).includes(src.id))) {
        problems.push(`${fnId}: created before the policy granting ${action} (no DependsOn)`);
      }
    }
  }
  return { functions, problems };
}

describe('functions in a VPC may create their network interfaces', () => {
  let vpcFunctions = 0;
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))('%s', (_name, configuration) => {
    const built = buildTestApp({ ...configuration.context });
    const { functions, problems } = vpcAccessProblems(Template.fromStack(built.stack).toJSON().Resources as Record<string, Resource>);
    vpcFunctions += functions;
    expect(problems).toEqual([]);
  });

  // Guards the check itself: the AMQP bridge configurations do attach functions to a VPC.
  it('found VPC-attached functions to check', () => expect(vpcFunctions).toBeGreaterThanOrEqual(3));
});

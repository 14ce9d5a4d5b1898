/**
 * Every function's logs go to a log group of the stack with a retention, in every
 * configuration, CDK's own bucket-notifications handler included (else Lambda creates
 * /aws/lambda/<name> itself, without a retention, outside the stack, and it outlives the stack).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEPLOY_CONFIGURATIONS } from './configurations.js';
import { buildTestApp } from './helpers.js';

// The synthesized template is untyped CloudFormation JSON: `any` where the test walks into it.
type Resource = { Type: string; Properties: Record<string, any> };

describe('log groups', () => {
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))('%s: every function logs to a log group of the stack with a retention', (_name, c) => {
    const resources = Template.fromStack(buildTestApp({ ...c.context }).stack).toJSON().Resources as Record<string, Resource>;
    const problems: string[] = [];
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const ref = (r.Properties.LoggingConfig?.LogGroup as { Ref?: string } | undefined)?.Ref;
      const group = ref === undefined ? undefined : resources[ref];
      if (group?.Type !== 'AWS::Logs::LogGroup') problems.push(`${id}: no log group of the stack`);
      else if (typeof group.Properties.RetentionInDays !== 'number') problems.push(`${id}: its log group ${ref} keeps logs forever`);
    }
    expect(problems).toEqual([]);
  });
});

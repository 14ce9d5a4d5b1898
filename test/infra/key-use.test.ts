/**
 * Least privilege on the keys (docs/deploying.md: "the roles use it only through DynamoDB, SQS or S3"):
 * every statement of every role's policy, in every configuration, that allows a KMS action
 * names the services it may be used through (kms:ViaService), the grants CDK writes for an
 * event source included.
 */
import { describe, expect, it } from 'vitest';
import { DEPLOY_CONFIGURATIONS } from './configurations.js';
import { testAppResources } from './helpers.js';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> };

describe('role statements on keys', () => {
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))('%s: every KMS action is allowed through a named service only', (_name, c) => {
    const resources = testAppResources({ ...c.context });
    const loose: string[] = [];
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
        const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
        if (s.Effect !== 'Allow' || !actions.some((a) => a.startsWith('kms:'))) continue;
        const via = Object.values(s.Condition ?? {}).some((c) => 'kms:ViaService' in c);
        if (!via) loose.push(`${id} ${s.Sid ?? '(no sid)'}: ${actions.join(', ')}`);
      }
    }
    expect(loose).toEqual([]);
  });
});

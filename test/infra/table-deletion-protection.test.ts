/**
 * The table's deletion protection against its RetainExceptOnCreate policy. CloudFormation deletes
 * a RetainExceptOnCreate resource when the stack operation that created it rolls back, and
 * DynamoDB refuses to delete a table with deletion protection, so a first deploy that fails
 * would leave a protected table behind and the rollback stuck. The default therefore leaves
 * deletion protection off (the first deploy rolls back cleanly) and `tableDeletionProtection`
 * turns it on, in a second deploy once the first has succeeded (README, "Deploy"; docs/deploying.md).
 */
import { describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { buildTestApp, NOTIFIER_ONLY } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** The compute node table of the bundled stack built with `overrides`. */
function computeNodeTable(overrides: Record<string, unknown>): Resource {
  const resources = Template.fromStack(buildTestApp({ ...NOTIFIER_ONLY, ...overrides }).stack).toJSON().Resources as Record<string, Resource>;
  const tables = Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
  expect(tables).toHaveLength(1);
  return tables[0]!;
}

describe('table deletion protection', () => {
  it('is off by default, so a failed first create can delete the table it made (RetainExceptOnCreate)', () => {
    const table = computeNodeTable({});
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties.DeletionProtectionEnabled).not.toBe(true);
  });

  it('is on with tableDeletionProtection: true, and the table is still kept on a stack delete or replacement', () => {
    for (const value of [true, 'true']) {
      const table = computeNodeTable({ tableDeletionProtection: value });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('tableDeletionProtection: false leaves it off', () => {
    expect(computeNodeTable({ tableDeletionProtection: 'false' }).Properties.DeletionProtectionEnabled).not.toBe(true);
  });
});

/**
 * CloudFormation's own linter agrees with every configuration (issue 20): each configuration of
 * test/infra/configurations.ts is synthesized once and linted by one `cfn-lint` call over every
 * supported region (infra/regions.ts) whose resources it needs, so a resource type, instance type
 * or property a region lacks is an error here. No error may remain, and no warning but the
 * waived ones below, each with its reason. Without cfn-lint on the PATH the test is skipped,
 * except with CI=true, where it fails (`.ci/run` checks that it is installed).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_GAP, mqInstanceGap, SCHEMA_REGISTRY_GAP, SUPPORTED_REGIONS, type RegionGap } from '../../infra/regions.js';
import { DEPLOY_CONFIGURATIONS, type DeployConfiguration } from './configurations.js';
import { buildTestApp } from './helpers.js';

const run = promisify(execFile);

/** Waived warnings: rule id → why the finding is not a problem of ours. Nothing else may warn. */
const WAIVED: Readonly<Record<string, string>> = {
  W3005:
    'CDK writes an explicit DependsOn next to a GetAtt (a function on its role, so the role\'s default policy exists before Lambda checks it; the bucket notification on its queue): redundant, and harmless to CloudFormation.',
};

interface Finding {
  readonly Level: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: readonly (string | number)[] | null };
}

const cfnLintVersion = (() => {
  const r = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();
const required = process.env.CI === 'true';

/** The supported regions where a configuration has every resource it needs. */
function regionsFor(c: DeployConfiguration): string[] {
  // A stack for one region is deployed there only.
  if (typeof c.context.region === 'string') return SUPPORTED_REGIONS.filter((r) => r === c.context.region);
  const bridge = c.context.amqpBridge as { createBroker?: boolean; brokerInstanceType?: string } | undefined;
  const gaps: RegionGap[] = [
    ...(c.context.schemaRegistry === false ? [] : [SCHEMA_REGISTRY_GAP]),
    ...(c.context.archive === false ? [] : [ARCHIVE_GAP]),
    ...(bridge?.createBroker === true ? [mqInstanceGap(bridge.brokerInstanceType ?? 'mq.m7g.medium')].filter((g) => g !== undefined) : []),
  ];
  return SUPPORTED_REGIONS.filter((r) => !gaps.some((g) => g.missingIn.includes(r)));
}

/** cfn-lint's findings for a template over the given regions (its exit code says only that some exist). */
async function lint(file: string, regions: readonly string[]): Promise<Finding[]> {
  try {
    const { stdout } = await run('cfn-lint', ['--format', 'json', '--regions', ...regions, '--', file], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout || '[]') as Finding[];
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout;
    // Exit codes 2, 4, 6…: findings (errors, warnings, both), reported as JSON on stdout.
    if (typeof stdout === 'string' && stdout.trim().startsWith('[')) return JSON.parse(stdout) as Finding[];
    throw error;
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'cfn-lint-'));

/**
 * Synthesizes configuration `i` and starts its cfn-lint call, once. Each test also starts the
 * next configuration's, so one linter runs while the next template is synthesized (a 2-core
 * machine; the findings are the same whatever the order).
 */
const started = new Map<number, Promise<Finding[]>>();
function start(i: number): Promise<Finding[]> | undefined {
  const c = DEPLOY_CONFIGURATIONS[i];
  if (c === undefined || cfnLintVersion === undefined) return undefined;
  let run = started.get(i);
  if (run === undefined) {
    const file = path.join(dir, `${i}-${c.name.replace(/[^A-Za-z0-9]+/g, '-')}.json`);
    try {
      writeFileSync(file, JSON.stringify(Template.fromStack(buildTestApp({ ...c.context }).stack).toJSON()));
      run = lint(file, regionsFor(c));
    } catch (error) {
      run = Promise.reject(error as Error);
    }
    run.catch(() => {}); // awaited by its own test; not an unhandled rejection meanwhile
    started.set(i, run);
  }
  return run;
}

describe.skipIf(cfnLintVersion === undefined && !required)(`cfn-lint (${cfnLintVersion ?? 'not installed'})`, () => {
  it('is installed (CI=true requires it: pip install cfn-lint)', () => {
    expect(cfnLintVersion, 'cfn-lint is not on the PATH').toBeDefined();
  });

  it.each(DEPLOY_CONFIGURATIONS.map((c, i) => [c.name, c, i] as const))('%s: no error and no unwaived warning in any supported region', async (_name, c, i) => {
    if (cfnLintVersion === undefined) throw new Error('cfn-lint is not installed (pip install cfn-lint)');
    expect(regionsFor(c).length).toBeGreaterThan(0);
    const run = start(i)!;
    start(i + 1);
    const findings = await run;
    const left = findings.filter((f) => !(f.Level === 'Warning' && WAIVED[f.Rule.Id] !== undefined));
    expect(left.map((f) => `${f.Rule.Id} ${f.Level}: ${f.Message} (${(f.Location.Path ?? []).join('/')})`)).toEqual([]);
  }, 240_000);
});

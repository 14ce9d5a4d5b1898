/**
 * What the local pipeline takes from the synthesized CDK template, so nothing the stack
 * declares is declared twice: the rules (`AWS::Events::Rule` `EventPattern`, state, SQS
 * targets), the notifier function's environment, and its event source mapping's settings.
 *
 * The template is `cdk.out/<stack>.template.json` when that is newer than every source it
 * is built from; otherwise the bundled app is synthesized in-process from cdk.json's context
 * with bundling skipped (`aws:cdk:bundling-stacks: []`), and optionally cached until a
 * source changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../functions/notifier/config.js';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CfnTemplate {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

export interface RuleTarget {
  /** The target's `Id` in the rule. */
  readonly id: string;
  /** Logical id of the target resource (when the ARN is a `Fn::GetAtt` of a resource in the template). */
  readonly logicalId: string | undefined;
  /** Resource type of the target (`AWS::SQS::Queue` for an indexer route). */
  readonly type: string | undefined;
  /** Readable name: the construct path without the stack and `/Resource`, else the logical id. */
  readonly name: string;
}

export interface TemplateRule {
  readonly logicalId: string;
  readonly name: string;
  readonly description: string | undefined;
  /** The `EventPattern` exactly as in the template (JSON form). */
  readonly eventPattern: unknown;
  readonly enabled: boolean;
  readonly targets: readonly RuleTarget[];
}

/** `Fn::GetAtt` / `Ref` left as text: the caller substitutes the local equivalents. */
export type TemplateValue = string | { readonly unresolved: unknown };

export interface EventSourceMappingSettings {
  readonly batchSize?: number;
  readonly bisectBatchOnFunctionError?: boolean;
  readonly maximumRetryAttempts?: number;
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition?: string;
}

export interface TemplateDeployment {
  readonly rules: readonly TemplateRule[];
  /** Environment of the function the stream's event source mapping invokes. */
  readonly functionEnvironment: Record<string, TemplateValue>;
  readonly eventSourceMapping: EventSourceMappingSettings | undefined;
}

function displayName(stackName: string | undefined, logicalId: string, metadata: Record<string, unknown> | undefined): string {
  const path = metadata?.['aws:cdk:path'];
  if (typeof path !== 'string') return logicalId;
  let p = path.replace(/\/Resource$/, '');
  if (stackName !== undefined && p.startsWith(stackName + '/')) p = p.slice(stackName.length + 1);
  else p = p.replace(/^[^/]+\//, '');
  return p;
}

function getAttTarget(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const att = (value as Record<string, unknown>)['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  const ref = (value as Record<string, unknown>).Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** Reads the rules, the function's environment and the mapping's settings out of a template. */
export function readTemplateDeployment(template: CfnTemplate, stackName?: string): TemplateDeployment {
  const resources = template.Resources ?? {};
  const rules: TemplateRule[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const props = resource.Properties ?? {};
    if (props.EventPattern === undefined) continue; // a schedule rule
    const eventPattern = typeof props.EventPattern === 'string' ? (JSON.parse(props.EventPattern) as unknown) : props.EventPattern;
    const targets = ((props.Targets as Record<string, unknown>[] | undefined) ?? []).map((t): RuleTarget => {
      const targetId = getAttTarget(t.Arn);
      const target = targetId === undefined ? undefined : resources[targetId];
      return {
        id: String(t.Id),
        logicalId: targetId,
        type: target?.Type,
        name: targetId === undefined ? String(t.Id) : displayName(stackName, targetId, target?.Metadata),
      };
    });
    rules.push({
      logicalId,
      name: typeof props.Name === 'string' ? props.Name : displayName(stackName, logicalId, resource.Metadata),
      description: typeof props.Description === 'string' ? props.Description : undefined,
      eventPattern,
      enabled: props.State === undefined || props.State === 'ENABLED',
      targets,
    });
  }

  let functionEnvironment: Record<string, TemplateValue> = {};
  let eventSourceMapping: EventSourceMappingSettings | undefined;
  // The notifier: a function on a table's stream whose environment names the bus and the quarantine.
  const variablesOf = (fn: string | undefined) =>
    (fn === undefined ? undefined : (resources[fn]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined))?.Variables;
  const mappings = Object.values(resources)
    .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
    .filter((r) => resources[getAttTarget(r.Properties?.EventSourceArn) ?? '']?.Type === 'AWS::DynamoDB::Table')
    .sort((a, b) => {
      const score = (r: typeof a) => {
        const v = variablesOf(getAttTarget(r.Properties?.FunctionName)) ?? {};
        return (ENV.eventBusName in v ? 1 : 0) + (ENV.quarantineQueueUrl in v ? 1 : 0);
      };
      return score(b) - score(a);
    });
  for (const resource of mappings) {
    const p = resource.Properties ?? {};
    eventSourceMapping = {
      ...(typeof p.BatchSize === 'number' ? { batchSize: p.BatchSize } : {}),
      ...(typeof p.BisectBatchOnFunctionError === 'boolean' ? { bisectBatchOnFunctionError: p.BisectBatchOnFunctionError } : {}),
      ...(typeof p.MaximumRetryAttempts === 'number' ? { maximumRetryAttempts: p.MaximumRetryAttempts } : {}),
      reportBatchItemFailures: Array.isArray(p.FunctionResponseTypes) && p.FunctionResponseTypes.includes('ReportBatchItemFailures'),
      ...(typeof p.StartingPosition === 'string' ? { startingPosition: p.StartingPosition } : {}),
    };
    const variables = variablesOf(getAttTarget(p.FunctionName));
    functionEnvironment = Object.fromEntries(
      Object.entries(variables ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : { unresolved: v }]),
    );
    break;
  }
  return { rules, functionEnvironment, eventSourceMapping };
}

export interface LoadedTemplate {
  readonly template: CfnTemplate;
  readonly stackName: string;
  /** Where it came from, for the banner. */
  readonly source: string;
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function cdkJsonContext(root: string): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface LoadTemplateOptions {
  readonly root?: string;
  /** Use cdk.out when it is fresh. @default true */
  readonly preferCdkOut?: boolean;
  /**
   * Keep the synthesized template here and reuse it while no source changed (synthesis takes
   * seconds). @default - no cache
   */
  readonly cacheFile?: string;
}

interface TemplateCache {
  readonly key: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
}

/** The bundled stack's template: from a fresh cdk.out, else synthesized in-process. */
export async function loadStackTemplate(opts: LoadTemplateOptions = {}): Promise<LoadedTemplate> {
  const root = opts.root ?? PROJECT_ROOT;
  const context = cdkJsonContext(root);
  const stackName = typeof context.stackName === 'string' ? context.stackName : 'HypervisorNotifications';
  const cdkOut = join(root, 'cdk.out', `${stackName}.template.json`);
  const sources = Math.max(newestMtime(join(root, 'infra')), newestMtime(join(root, 'functions')), newestMtime(join(root, 'cdk.json')));
  if (opts.preferCdkOut !== false && existsSync(cdkOut) && statSync(cdkOut).mtimeMs > sources) {
    return { template: JSON.parse(readFileSync(cdkOut, 'utf8')) as CfnTemplate, stackName, source: `cdk.out/${stackName}.template.json` };
  }
  const key = createHash('sha256').update(JSON.stringify({ sources, context })).digest('hex');
  if (opts.cacheFile !== undefined && existsSync(opts.cacheFile)) {
    try {
      const cache = JSON.parse(readFileSync(opts.cacheFile, 'utf8')) as TemplateCache;
      if (cache.key === key) return { template: cache.template, stackName: cache.stackName, source: `synthesized from infra/ (cached in ${basename(opts.cacheFile)})` };
    } catch {
      // A damaged cache is synthesized again.
    }
  }
  const outdir = mkdtempSync(join(tmpdir(), 'local-synth-'));
  try {
    const { buildApp } = await import('../infra/build-app.js');
    return synthesize(buildApp);
  } catch (error) {
    // infra/ being edited (or a cdk-nag finding) should not stop a local run that has an older template.
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    if (opts.cacheFile !== undefined && existsSync(opts.cacheFile)) {
      const cache = JSON.parse(readFileSync(opts.cacheFile, 'utf8')) as TemplateCache;
      return { template: cache.template, stackName: cache.stackName, source: `an older synthesized template (${basename(opts.cacheFile)}): synthesis failed now: ${why}` };
    }
    if (existsSync(cdkOut)) {
      return { template: JSON.parse(readFileSync(cdkOut, 'utf8')) as CfnTemplate, stackName, source: `an older cdk.out/${stackName}.template.json: synthesis failed now: ${why}` };
    }
    throw error;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }

  function synthesize(buildApp: typeof import('../infra/build-app.js').buildApp): LoadedTemplate {
    const { app, stack } = buildApp({ context: { ...context, 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true }, outdir });
    const template = withoutReportPath(() => app.synth()).getStackByName(stack.stackName).template as CfnTemplate;
    if (opts.cacheFile !== undefined) {
      const cache: TemplateCache = { key, stackName: stack.stackName, template };
      writeFileSync(opts.cacheFile, JSON.stringify(cache));
    }
    return { template, stackName: stack.stackName, source: `synthesized in-process from infra/ (${stack.stackName})` };
  }
}

/**
 * Runs a synthesis, passing on what it prints on stderr except the line that names the copy
 * of its validation report: that copy lives in the temporary output directory, removed as
 * soon as the template is read, so the path would point nowhere.
 */
function withoutReportPath<T>(synth: () => T): T {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    const kept = text
      .split('\n')
      .filter((line) => !line.startsWith('A copy of this report can be found in:'))
      .join('\n')
      .trimEnd();
    if (kept !== '') original(kept);
  };
  try {
    return synth();
  } finally {
    console.error = original;
  }
}

/** Shared by the infra tests: the bundled app built from cdk.json's context, bundling skipped. */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuiltApp } from '../../infra/build-app.js';
import { HypervisorNotifier, type HypervisorNotifierProps } from '../../infra/hypervisor-notifier.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The `context` block of cdk.json, as the CLI would pass it. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

/**
 * The notifier alone: without the resync function and the reference indexer (tested in
 * consumers.test.ts), the redrive (redrive.test.ts) and the heartbeat (heartbeat.test.ts), so
 * the notifier's tests can count its resources and statements.
 */
export const NOTIFIER_ONLY = { resyncFunction: false, referenceIndexer: false, redrive: false, heartbeatIntervalMinutes: 0 };

/** Skip NodejsFunction bundling (esbuild) in every stack: the asset does not matter to these tests. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** The bundled app with cdk.json's context plus `overrides` (null removes a key, like an unset value). */
export function buildTestApp(overrides: Record<string, unknown> = {}): BuiltApp {
  return buildApp({
    context: { ...cdkJsonContext(), ...overrides, ...SKIP_BUNDLING },
    outdir: mkdtempSync(path.join(tmpdir(), 'infra-test-')),
  });
}

/** Logical ids of the resources of one type. */
export function logicalIds(template: { findResources(type: string): Record<string, unknown> }, type: string): string[] {
  return Object.keys(template.findResources(type));
}

/** The single logical id of a resource type (fails the test if there is not exactly one). */
export function onlyLogicalId(template: { findResources(type: string): Record<string, unknown> }, type: string): string {
  const ids = logicalIds(template, type);
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}: ${ids.join(', ')}`);
  return ids[0]!;
}

// The synthesized template is untyped CloudFormation JSON: `any` where the tests walk into it.
/** A resource of a synthesized template. */
export type CfnResource = { Type: string; Properties: Record<string, any> };

/** The resources, by logical id, of the bundled app's stack with cdk.json's context plus `overrides`. */
export function testAppResources(overrides: Record<string, unknown> = {}): Record<string, CfnResource> {
  return Template.fromStack(buildTestApp(overrides).stack).toJSON().Resources as Record<string, CfnResource>;
}

/** A `HypervisorNotifier` alone in a stack named `name` in `env`, bundling skipped, and its template. */
export function synthNotifier(props: HypervisorNotifierProps, name: string, env: { account: string; region: string }): { t: Template; stack: Stack; notifier: HypervisorNotifier } {
  const stack = new Stack(new App({ context: SKIP_BUNDLING }), name, { env });
  const notifier = new HypervisorNotifier(stack, 'Notifier', props);
  return { t: Template.fromStack(stack), stack, notifier };
}

/**
 * Renders a template value with `Fn::Join`s joined, the partition as `aws` and other references
 * as `<id>` or `<id.attr>`, so IAM statements compare as text.
 */
export function renderRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(renderRefs);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, any>;
  if (o.Ref !== undefined) return o.Ref === 'AWS::Partition' ? 'aws' : `<${o.Ref}>`;
  if (o['Fn::GetAtt'] !== undefined) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (o['Fn::Join'] !== undefined) return (o['Fn::Join'][1] as unknown[]).map(renderRefs).join(o['Fn::Join'][0]);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, renderRefs(x)]));
}

/** Shared by the infra tests: the bundled app built from cdk.json's context, bundling skipped. */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, type BuiltApp } from '../../infra/build-app.js';

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

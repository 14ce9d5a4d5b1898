/**
 * Regions (infra/regions.ts): a stack for a known region that lacks a resource the
 * configuration needs fails synth, naming the resource and the setting that avoids it; the
 * docs/deploying.md lists exactly the supported regions that the cfn-lint test lints.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RegionLacksResourceError } from '../../infra/region-check.js';
import { ARCHIVE_GAP, MQ_M5_GAP, MQ_M7G_GAP, SCHEMA_REGISTRY_GAP, SUPPORTED_REGIONS } from '../../infra/regions.js';
import { buildTestApp, NOTIFIER_ONLY } from './helpers.js';

const IN = (region: string) => ({ ...NOTIFIER_ONLY, exampleRoute: false, account: '123456789012', region });
const BROKER = { createBroker: true, vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] };
const OFF = { schemaRegistry: false, archive: false };

describe('a region known to lack a resource', () => {
  it.each([
    ['il-central-1', {}, /region il-central-1 has no .*schema registry.*set schemaRegistry to false/],
    ['mx-central-1', { schemaRegistry: false }, /region mx-central-1 has no .*archive.*set archive to false/],
    ['eu-south-1', { amqpBridge: BROKER }, /region eu-south-1 has no .*mq\.m7g.*brokerInstanceType/],
    ['ap-southeast-6', { ...OFF, amqpBridge: { ...BROKER, brokerInstanceType: 'mq.m5.large' } }, /region ap-southeast-6 has no .*mq\.m5.*brokerInstanceType/],
  ])('%s with %j fails synth, naming the resource and the remedy', (region, context, message) => {
    expect(() => buildTestApp({ ...IN(region), ...context })).toThrow(RegionLacksResourceError);
    expect(() => buildTestApp({ ...IN(region), ...context })).toThrow(message);
  });

  it('synthesizes there once the resource is turned off or changed', () => {
    expect(() => buildTestApp({ ...IN('ca-west-1'), ...OFF, amqpBridge: { ...BROKER, brokerInstanceType: 'mq.m5.large' } })).not.toThrow();
  });

  it('the default configuration synthesizes for a region that has everything, and an environment-agnostic stack is not checked', () => {
    expect(() => buildTestApp({ ...IN('eu-west-1'), amqpBridge: BROKER })).not.toThrow();
    expect(() => buildTestApp({ ...NOTIFIER_ONLY, exampleRoute: false })).not.toThrow();
  });

  it('every gap names supported regions only', () => {
    for (const gap of [SCHEMA_REGISTRY_GAP, ARCHIVE_GAP, MQ_M7G_GAP, MQ_M5_GAP]) for (const r of gap.missingIn) expect(SUPPORTED_REGIONS).toContain(r);
  });
});

describe('docs/deploying.md', () => {
  it('lists exactly the supported regions, and each gap', () => {
    const page = readFileSync(new URL('../../docs/deploying.md', import.meta.url), 'utf8');
    const start = page.indexOf('\n## Regions\n');
    expect(start).toBeGreaterThanOrEqual(0);
    const section = page.slice(start, page.indexOf('\n## ', start + 1));
    const listed = section.slice(0, section.indexOf('\n\n', section.indexOf('Supported'))).match(/`[a-z]{2}(-[a-z]+)+-\d`/g) ?? [];
    expect([...new Set(listed.map((r) => r.slice(1, -1)))].sort()).toEqual([...SUPPORTED_REGIONS].sort());
    for (const gap of [SCHEMA_REGISTRY_GAP, ARCHIVE_GAP, MQ_M7G_GAP, MQ_M5_GAP]) for (const r of gap.missingIn) expect(section).toContain(r);
  });
});

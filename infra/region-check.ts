/**
 * Fails synth when the stack's region is known (an environment-specific stack) and lacks a
 * resource the configuration would create (infra/regions.ts), so the deploy does not fail
 * half-way in CloudFormation. An environment-agnostic stack is checked by nothing here: the
 * docs/deploying.md lists the regions and what to turn off in each.
 */
import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RegionGap } from './regions.js';

/** The configured region lacks a resource the configuration needs. */
export class RegionLacksResourceError extends Error {
  override readonly name = 'RegionLacksResourceError';
}

/** Throws {@link RegionLacksResourceError} when `scope`'s stack is in a region that lacks `gap`'s resource. */
export function requireRegionOffers(scope: IConstruct, gap: RegionGap): void {
  const region = Stack.of(scope).region;
  if (Token.isUnresolved(region) || !gap.missingIn.includes(region)) return;
  throw new RegionLacksResourceError(`${scope.node.path}: the region ${region} has no ${gap.resource}; ${gap.remedy}`);
}

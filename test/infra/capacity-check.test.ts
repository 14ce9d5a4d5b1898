/**
 * The synth warning near a default quota (infra/capacity-check.ts), both ways: the bundled
 * stack with an `expectedComputeNodes` that its region's quotas cannot comfortably carry warns
 * and says what to do; the same fleet where the quota is ample, or no fleet given, does not.
 *
 * The default stack has three rules per notification: the example route, the reference
 * indexer's route and the archive.
 */
import { App, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CapacityCheck } from '../../infra/capacity-check.js';
import { AppContextError } from '../../infra/context.js';
import { buildTestApp } from './helpers.js';

const ENV = { account: '123456789012' };
const CAPACITY = /^Capacity:/;

describe('capacity warning at synth', () => {
  it('warns when rule invocations come within half of the region default, naming the quota and the remedy', () => {
    // 200,000 nodes / 60 s × 10 % = 333.3 notifications/s × 3 rules = 1,000 invocations/s: 91 % of eu-north-1's 1,100.
    // PutEvents: 3,333 records/s ÷ 100 a batch × 1 request = 33 requests/s, 6 % of 600: no warning for it.
    const built = buildTestApp({ ...ENV, region: 'eu-north-1', expectedComputeNodes: 200_000, expectedNotifiedFraction: 0.1 });
    const annotations = Annotations.fromStack(built.stack);
    annotations.hasWarning(
      '/HypervisorNotifications/Notifier/Capacity',
      Match.stringLikeRegexp(
        "Capacity: 200,000 compute nodes.*3 rule\\(s\\).*1,000 rule invocations a second, 91 % of the default 'Invocations throttle limit in transactions per second' in eu-north-1 \\(1,100\\).*L-5540C5E3.*fewer or broader routes.*second bus",
      ),
    );
    annotations.hasNoWarning('*', Match.stringLikeRegexp('PutEvents requests a second'));
  });

  it('warns for PutEvents too when every report is notified (the default bound)', () => {
    // 1,000,000 / 60 = 16,667 records/s, 10 requests per 100 → 1,667 requests/s: 69 % of us-east-2's 2,400.
    const built = buildTestApp({ ...ENV, region: 'us-east-2', expectedComputeNodes: 1_000_000 });
    Annotations.fromStack(built.stack).hasWarning('*', Match.stringLikeRegexp("1,667 PutEvents requests a second, 69 % of the default 'PutEvents throttle limit.*us-east-2 \\(2,400\\).*L-9B653E91"));
  });

  it('does not warn where the quota is ample, nor without an expected fleet', () => {
    // The same 1,000 invocations/s is 5 % of us-east-1's 18,750.
    const ample = buildTestApp({ ...ENV, region: 'us-east-1', expectedComputeNodes: 200_000, expectedNotifiedFraction: 0.1 });
    Annotations.fromStack(ample.stack).hasNoWarning('*', Match.stringLikeRegexp(CAPACITY.source));
    const unknownFleet = buildTestApp({ ...ENV, region: 'eu-north-1' });
    Annotations.fromStack(unknownFleet.stack).hasNoWarning('*', Match.stringLikeRegexp(CAPACITY.source));
  });

  it('an environment-agnostic stack is held to the lowest defaults and says so', () => {
    // 100,000 / 60 × 10 % × 3 = 500 invocations/s: 67 % of 750, 45 % of 1,100.
    const built = buildTestApp({ expectedComputeNodes: 100_000, expectedNotifiedFraction: 0.1 });
    Annotations.fromStack(built.stack).hasWarning('*', Match.stringLikeRegexp('500 rule invocations a second, 67 % .* in a region not known at synth'));
  });

  it('counts the rules on the bus against the rules quota (100 in af-south-1)', () => {
    const stack = (region: string, rules: number) => {
      const s = new Stack(new App(), 'S', { env: { ...ENV, region } });
      new CapacityCheck(s, 'Capacity', { rules: () => rules });
      new CfnWaitConditionHandle(s, 'Placeholder'); // a template needs a resource
      return s;
    };
    Annotations.fromStack(stack('af-south-1', 50)).hasWarning('/S/Capacity', Match.stringLikeRegexp("50 rules on the bus, 50 % of the default 'Number of rules' in af-south-1 \\(100\\)"));
    Annotations.fromStack(stack('af-south-1', 49)).hasNoWarning('*', Match.stringLikeRegexp(CAPACITY.source));
    Annotations.fromStack(stack('us-east-1', 50)).hasNoWarning('*', Match.stringLikeRegexp(CAPACITY.source));
  });

  it('refuses a fleet or fraction that cannot be', () => {
    expect(() => buildTestApp({ expectedComputeNodes: -5 })).toThrow(AppContextError);
    expect(() => buildTestApp({ expectedNotifiedFraction: 1.5 })).toThrow(/expectedNotifiedFraction/);
    const s = new Stack(new App(), 'S');
    expect(() => new CapacityCheck(s, 'C', { rules: () => 1, expectedComputeNodes: 2.5 })).toThrow(/expectedComputeNodes.*2\.5/);
  });
});

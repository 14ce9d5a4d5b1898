/**
 * The writer region option (issue 22, global tables) reaches the functions that classify stream
 * records: the notifier and the redrive (which publishes what the stream would have), from the
 * construct's props and from cdk.json's context; nothing of it without the option; a bad value
 * fails synth with the function's own message.
 */
import { describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../functions/notifier/config.js';
import { HypervisorNotifier, type HypervisorNotifierProps } from '../../infra/hypervisor-notifier.js';
import { buildTestApp, SKIP_BUNDLING } from './helpers.js';

type Json = Record<string, any>;

/** The environment of the notifier's function and of the redrive's. */
function environments(stack: Stack, notifier: HypervisorNotifier): { notifier: Json; redrive: Json } {
  const resources = Template.fromStack(stack).toJSON().Resources as Json;
  const envOf = (fn: { node: { defaultChild?: unknown } }) => resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables as Json;
  return { notifier: envOf(notifier.function), redrive: envOf(notifier.redrive!.bundled.function) };
}

function synth(props: HypervisorNotifierProps, name = 'WriterRegion') {
  const stack = new Stack(new App({ context: SKIP_BUNDLING }), name, { env: { account: '111111111111', region: 'eu-west-1' } });
  const notifier = new HypervisorNotifier(stack, 'Notifier', props);
  return environments(stack, notifier);
}

describe('writer region option', () => {
  it('writerRegionAttribute alone: the attribute, the region left to the function (its AWS_REGION); notifier and redrive alike', () => {
    const env = synth({ writerRegionAttribute: 'written_in' });
    for (const e of [env.notifier, env.redrive]) {
      expect(e[ENV.writerRegionAttribute]).toBe('written_in');
      expect(e).not.toHaveProperty(ENV.notifyWriterRegion);
    }
  });

  it('with notifyWriterRegion: both, the same in the redrive', () => {
    const env = synth({ writerRegionAttribute: 'written_in', notifyWriterRegion: 'us-east-1' });
    expect(env.notifier).toMatchObject({ [ENV.writerRegionAttribute]: 'written_in', [ENV.notifyWriterRegion]: 'us-east-1' });
    expect(env.redrive).toMatchObject({ [ENV.writerRegionAttribute]: 'written_in', [ENV.notifyWriterRegion]: 'us-east-1' });
  });

  it('off: neither variable', () => {
    const env = synth({});
    expect(env.notifier).not.toHaveProperty(ENV.writerRegionAttribute);
    expect(env.notifier).not.toHaveProperty(ENV.notifyWriterRegion);
  });

  it('refuses a region without the attribute, or one that is not a region name, naming the variable', () => {
    expect(() => synth({ notifyWriterRegion: 'us-east-1' }, 'NoAttribute')).toThrow(/NOTIFY_WRITER_REGION: is used only with WRITER_REGION_ATTRIBUTE/);
    expect(() => synth({ writerRegionAttribute: 'written_in', notifyWriterRegion: 'Virginia' }, 'BadRegion')).toThrow(/NOTIFY_WRITER_REGION: must be a region name/);
  });

  it('cdk.json context keys writerRegionAttribute and notifyWriterRegion reach the notifier', () => {
    const { stack } = buildTestApp({ writerRegionAttribute: 'written_in', notifyWriterRegion: 'ap-south-1' });
    const env = environments(stack, stack.notifier);
    expect(env.notifier).toMatchObject({ [ENV.writerRegionAttribute]: 'written_in', [ENV.notifyWriterRegion]: 'ap-south-1' });
    expect(() => buildTestApp({ notifyWriterRegion: 'mars-1' })).toThrow(/notifyWriterRegion/);
  });
});

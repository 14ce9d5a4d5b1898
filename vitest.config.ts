import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CDK synth and DynamoDB Local tests take seconds on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The AWS SDK's own switch for its NodeVersionSupport warning (as local/quiet-warnings.ts sets it for the CLI):
    // eight lines in every test file's output, and the supported Node versions are stated once, in the README.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});

import { afterEach, describe, expect, it, vi } from 'vitest';

// handler.ts configures itself from the environment when Lambda loads it.
describe('the Lambda entry point', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('loads with a valid environment', async () => {
    vi.stubEnv('QUARANTINE_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/q');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    const { handler } = await import('../../functions/notifier/handler.js');
    expect(typeof handler).toBe('function');
  });

  it('fails to start on an unknown watched field, naming it', async () => {
    vi.stubEnv('QUARANTINE_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/q');
    vi.stubEnv('WATCHED_FIELDS', 'vcpus,running_vm');
    await expect(import('../../functions/notifier/handler.js')).rejects.toThrow(/WATCHED_FIELDS: unknown field 'running_vm'/);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { DescribeEventBusCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { allAccepted } from '../support/notifier-harness.js';
import { insert, nodeImage } from '../support/records.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';
const BUS_ARN = 'arn:aws:events:us-east-1:123456789012:event-bus/notifications';

// handler.ts configures itself from the environment when Lambda loads it.
describe('the Lambda entry point', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  function stubValidEnvironment(): void {
    vi.stubEnv('QUARANTINE_QUEUE_URL', QUEUE_URL);
    vi.stubEnv('EVENT_BUS_NAME', BUS_ARN);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  }

  it('handles a stream event with the clients it builds: checks the bus once, then publishes the create', async () => {
    stubValidEnvironment();
    // Every instance of the client classes, so the handler's own clients are the mocked ones.
    const eb = mockClient(EventBridgeClient);
    const sq = mockClient(SQSClient);
    try {
      eb.on(DescribeEventBusCommand).resolves({ Name: 'notifications', Arn: BUS_ARN });
      eb.on(PutEventsCommand).callsFake(allAccepted);
      const { handler } = await import('../../functions/notifier/handler.js');
      const context = { getRemainingTimeInMillis: () => 60_000, invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:notifier' };
      const record = insert(nodeImage(3));

      expect(await handler({ Records: [record] }, context)).toEqual({ batchItemFailures: [] });
      expect(await handler({ Records: [] }, context)).toEqual({ batchItemFailures: [] });

      expect(eb.commandCalls(DescribeEventBusCommand)).toHaveLength(1);
      const entries = eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ Source: 'openstack.nova', DetailType: 'compute_node.create', EventBusName: BUS_ARN });
      const detail = JSON.parse(entries[0]!.Detail!) as { payload: { 'nova_object.data': { uuid: string } }; change: { sequence_number: string } };
      expect(detail.payload['nova_object.data'].uuid).toBe(record.dynamodb.NewImage!.uuid!.S);
      expect(detail.change.sequence_number).toBe(record.dynamodb.SequenceNumber);
      expect(sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
      expect(sq.commandCalls(SendMessageCommand)).toHaveLength(0);
    } finally {
      eb.restore();
      sq.restore();
    }
  });

  it('fails to start on an unknown watched field, naming it', async () => {
    vi.stubEnv('QUARANTINE_QUEUE_URL', QUEUE_URL);
    vi.stubEnv('WATCHED_FIELDS', 'vcpus,running_vm');
    await expect(import('../../functions/notifier/handler.js')).rejects.toThrow(/WATCHED_FIELDS: unknown field 'running_vm'/);
  });

  it('fails to start naming each bad variable', async () => {
    vi.stubEnv('QUARANTINE_QUEUE_URL', 'not a url');
    vi.stubEnv('PUT_EVENTS_CONCURRENCY', '0');
    const failure = import('../../functions/notifier/handler.js');
    await expect(failure).rejects.toThrow(/QUARANTINE_QUEUE_URL: must be a URL/);
    await expect(failure).rejects.toThrow(/PUT_EVENTS_CONCURRENCY: must be at least 1/);
  });

  it('fails to start without a quarantine queue, naming the variable', async () => {
    vi.stubEnv('QUARANTINE_QUEUE_URL', '');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    await expect(import('../../functions/notifier/handler.js')).rejects.toThrow(/QUARANTINE_QUEUE_URL: must be set/);
  });
});

/**
 * An EVENT_BUS_NAME that EventBridge refuses as a name (outside its pattern: a space, a stray
 * character) makes every PutEvents request fail with ValidationException, as does the start-up
 * DescribeEventBus. The publisher then sends each entry alone, each is refused again, and (before
 * the fix) every valid notification went to the quarantine as `event_rejected`: a set-up error
 * blamed on every record. The bus check now takes AWS's ValidationException for what it is, a
 * configuration error naming the variable, and no record is quarantined.
 */
import { describe, expect, it } from 'vitest';
import { DescribeEventBusCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../functions/notifier/config.js';
import { ConfigurationError } from '../../functions/notifier/errors.js';
import { checkEventBus } from '../../functions/notifier/bus-check.js';
import { createNotifier } from '../../functions/notifier/notifier.js';
import { allQueued, QUEUE_URL } from '../support/notifier-harness.js';
import { insert, nodeImage } from '../support/records.js';

const BAD_NAME = 'notifications ';

/** What EventBridge answers for a bus name outside its pattern (the SDK's error for a 400 ValidationException). */
const validationError = (member: string) =>
  Object.assign(new Error(`1 validation error detected: Value '${BAD_NAME}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern`), {
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

describe('an event bus name EventBridge refuses', () => {
  it('fails the invocation naming EVENT_BUS_NAME; no valid record is quarantined', async () => {
    const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
    const sqs = new SQSClient({ region: 'us-east-1' });
    const eb = mockClient(eventBridge);
    const sq = mockClient(sqs);
    eb.on(DescribeEventBusCommand).rejects(validationError('name'));
    eb.on(PutEventsCommand).rejects(validationError('entries.1.member.eventBusName'));
    sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
    (metrics as unknown as { console: { log: (s: string) => void } }).console = { log: () => undefined };
    const handle = createNotifier({
      config: loadConfig({ EVENT_BUS_NAME: BAD_NAME, QUARANTINE_QUEUE_URL: QUEUE_URL }),
      eventBridge,
      sqs,
      logger,
      metrics,
      sleep: async () => undefined,
      checkEventBus: true,
    });
    const records = [insert(nodeImage(1)), insert(nodeImage(2)), insert(nodeImage(3))];
    const context = { getRemainingTimeInMillis: () => 60_000 };

    const outcome = await handle({ Records: records }, context).then(
      (response) => ({ response }),
      (error: unknown) => ({ error }),
    );
    expect(sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect('error' in outcome && outcome.error).toBeInstanceOf(ConfigurationError);
    expect(String((outcome as { error: Error }).error.message)).toMatch(/^EVENT_BUS_NAME: .*'notifications '.*ValidationException/);
    // Every later invocation of the instance fails the same way (nothing is sent to the quarantine).
    await expect(handle({ Records: records }, context)).rejects.toBeInstanceOf(ConfigurationError);
    expect(sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("leaves a bus ARN of another region unverified (a global endpoint's secondary bus), as before", async () => {
    const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
    const eb = mockClient(eventBridge);
    eb.on(DescribeEventBusCommand).rejects(validationError('name'));
    const functionArn = 'arn:aws:lambda:us-east-1:123456789012:function:notifier';
    const check = await checkEventBus(eventBridge, 'arn:aws:events:us-west-2:123456789012:event-bus/notifications', functionArn);
    expect(check.kind).toBe('unverified');
    await expect(checkEventBus(eventBridge, 'arn:aws:events:us-east-1:123456789012:event-bus/notifications ', functionArn)).rejects.toBeInstanceOf(ConfigurationError);
  });
});

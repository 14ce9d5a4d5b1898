/**
 * The smoke test's own route: a temporary SQS queue and a temporary rule on the bus that
 * delivers every notification of the test node (and, when asked, the heartbeats) to it, made the way an
 * indexer route is (the queue allows only `sqs:SendMessage` from this rule). Every resource
 * is recorded as soon as it exists, so `remove()` deletes exactly what was made, whatever
 * step failed.
 */
import { DeleteRuleCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { HEARTBEAT_DETAIL_TYPE } from '../functions/notifier/contract/index.js';

export interface ProbeSettings {
  /** Names the rule and the queue (`hypervisor-smoke-<runId>`). */
  readonly runId: string;
  readonly busName: string;
  readonly source: string;
  /** The test node's `publisher_id` (`nova-compute:<its host>`), unique to the run. */
  readonly publisherId: string;
  /** Also deliver the heartbeats (`hypervisor_notifier.heartbeat`, same source). @default false */
  readonly heartbeats?: boolean;
}

/** An event as the rule's target receives it, with when SQS got it. */
export interface ProbeDelivery {
  readonly event: { 'detail-type': string; source: string; detail: Record<string, unknown> };
  /** Epoch ms SQS received the message (its SentTimestamp), or when it was read. */
  readonly deliveredAt: number;
}

const TARGET_ID = 'smoke-queue';

export class RouteProbe {
  readonly name: string;
  private queueUrl: string | undefined;
  // Each set before its request is sent: a request whose every answer was lost may have been
  // applied all the same, so remove() looks for what it may have made.
  private ruleMade = false;
  private targetMade = false;
  private queueMade = false;

  constructor(
    private readonly events: EventBridgeClient,
    private readonly sqs: SQSClient,
    private readonly settings: ProbeSettings,
  ) {
    this.name = `hypervisor-smoke-${settings.runId}`;
  }

  /** Makes the rule, the queue (its policy naming the rule) and the rule's target. */
  async create(): Promise<void> {
    const s = this.settings;
    this.ruleMade = true;
    const rule = await this.events.send(
      new PutRuleCommand({
        Name: this.name,
        EventBusName: s.busName,
        State: 'ENABLED',
        Description: 'npm run smoke: the notifications of its test node (removed when the check ends)',
        // publisher_id names the test node's host, unique to this run (a pattern on the payload's
        // uuid would need the key `nova_object.data`, whose dot is best kept out of a pattern).
        EventPattern: JSON.stringify(
          s.heartbeats === true
            ? { source: [s.source], $or: [{ detail: { publisher_id: [s.publisherId] } }, { 'detail-type': [HEARTBEAT_DETAIL_TYPE] }] }
            : { source: [s.source], detail: { publisher_id: [s.publisherId] } },
        ),
      }),
    );
    // arn:<partition>:events:<region>:<account>:rule/...: the queue's ARN follows from it, so the
    // policy is given at creation instead of with SetQueueAttributes, whose changes SQS may take
    // up to a minute to apply (deliveries in between would be refused and retried late).
    const [, partition, , region, account] = (rule.RuleArn ?? '').split(':');
    if (partition === undefined || region === undefined || account === undefined) throw new Error(`PutRule answered no usable RuleArn (${String(rule.RuleArn)})`);
    const expectedArn = `arn:${partition}:sqs:${region}:${account}:${this.name}`;
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ThisRuleOnly',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: expectedArn,
          Condition: { ArnEquals: { 'aws:SourceArn': rule.RuleArn } },
        },
      ],
    };
    // Encrypted with SQS-managed keys (SSE-SQS), which involve no KMS key and so no key policy
    // for EventBridge: SSE-SQS is what SQS gives every new queue by default, "You do not need to
    // make any code or application changes" (AWS Compute Blog, "Announcing server-side encryption
    // with Amazon SQS-managed encryption keys (SSE-SQS) by default"); EventBridge asks for KMS
    // permissions only for a queue under a customer managed key (docs/deploying.md, "The smoke
    // check's queue", has the pages and what no page says outright).
    this.queueMade = true;
    const created = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: this.name,
        Attributes: { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '900', Policy: JSON.stringify(policy) },
      }),
    );
    this.queueUrl = created.QueueUrl;
    const attributes = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = attributes.Attributes?.QueueArn;
    if (queueArn !== expectedArn) throw new Error(`the new queue's ARN is ${String(queueArn)}, not ${expectedArn} as its policy says`);
    this.targetMade = true;
    const targets = await this.events.send(new PutTargetsCommand({ Rule: this.name, EventBusName: s.busName, Targets: [{ Id: TARGET_ID, Arn: queueArn }] }));
    if ((targets.FailedEntryCount ?? 0) > 0) throw new Error(`PutTargets failed: ${JSON.stringify(targets.FailedEntries)}`);
  }

  /** Reads (and deletes) what has arrived since the last call. */
  async receive(waitSeconds: number): Promise<ProbeDelivery[]> {
    if (this.queueUrl === undefined) return [];
    const out = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, MessageSystemAttributeNames: ['SentTimestamp'] }),
    );
    const now = Date.now();
    const messages = out.Messages ?? [];
    // Read once: a message left behind would only come back as a duplicate (and dies with the queue).
    for (const m of messages) await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle! })).catch(() => undefined);
    return messages.map((m) => {
      const sent = Number(m.Attributes?.SentTimestamp);
      return { event: JSON.parse(m.Body ?? '{}') as ProbeDelivery['event'], deliveredAt: Number.isFinite(sent) && sent > 0 ? sent : now };
    });
  }

  /** Deletes what `create` made (target, rule, queue): what was removed, and the problems (empty when all is gone). */
  async remove(): Promise<{ removed: string[]; problems: string[] }> {
    const removed: string[] = [];
    const problems: string[] = [];
    const s = this.settings;
    const attempt = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
        removed.push(what);
      } catch (error) {
        problems.push(`could not remove ${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
    };
    // A rule that was never made has no target to remove (ResourceNotFoundException); DeleteRule of a missing rule succeeds.
    if (this.targetMade) {
      await attempt(`the target of rule ${this.name}`, () =>
        this.events.send(new RemoveTargetsCommand({ Rule: this.name, EventBusName: s.busName, Ids: [TARGET_ID] })).catch((error: unknown) => {
          if ((error as Error | undefined)?.name !== 'ResourceNotFoundException') throw error;
        }),
      );
    }
    if (this.ruleMade) await attempt(`rule ${this.name}`, () => this.events.send(new DeleteRuleCommand({ Name: this.name, EventBusName: s.busName })));
    let url = this.queueUrl;
    if (url === undefined && this.queueMade) {
      try {
        url = (await this.sqs.send(new GetQueueUrlCommand({ QueueName: this.name }))).QueueUrl;
      } catch (error) {
        const name = (error as Error | undefined)?.name;
        if (name !== 'QueueDoesNotExist' && name !== 'AWS.SimpleQueueService.NonExistentQueue') {
          problems.push(`could not look for queue ${this.name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
        }
      }
    }
    const found = url;
    if (found !== undefined) await attempt(`queue ${this.name}`, () => this.sqs.send(new DeleteQueueCommand({ QueueUrl: found })));
    return { removed: removed.filter((r) => !r.startsWith('the target')), problems };
  }
}

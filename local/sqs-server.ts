/**
 * The quarantine queue's local stand-in: a loopback HTTP server speaking SQS's AWS JSON 1.0
 * protocol (`X-Amz-Target: AmazonSQS.<Operation>`, as @aws-sdk/client-sqs v3 sends it, with
 * `awsQueryCompatible` error codes), so the notifier's real `SQSClient` reaches it the same
 * way it reaches SQS. Implements SendMessage (with DelaySeconds), SendMessageBatch, ReceiveMessage
 * (with the ApproximateReceiveCount and SentTimestamp attributes), ChangeMessageVisibility,
 * DeleteMessage and GetQueueUrl, and CreateQueue, DeleteQueue, Get/SetQueueAttributes for queues
 * made at run time (`npm run smoke`'s); messages are kept in memory and appended to a JSONL file.
 * Answers carry `MD5OfMessageBody`, which the SDK verifies. Tests can inject faults (a
 * refusing or unreachable queue, failed entries) through `sqs.faults`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsServiceError, startAwsJsonServer, type RequestFault, type RunningServer } from './aws-json-server.js';
import { LOCAL_ACCOUNT, LOCAL_AWS } from './local-aws.js';
import type { JsonlWriter } from './run-directory.js';

/** SQS: a message and a batch (all its bodies) at most 256 KiB; ten entries a batch. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const MAX_BATCH_ENTRIES = 10;

export interface QueueMessage {
  readonly queue: string;
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly sentAt: number;
  receiveCount: number;
  /** Epoch ms until which a received message is invisible. */
  invisibleUntil: number;
  receiptHandle?: string;
}

export interface SqsServerOptions {
  /** Queue names to create. */
  readonly queues: readonly string[];
  readonly account?: string;
  /** Each message sent is appended here (`{queue, messageId, sentAt, body}`; a JSON body is spliced in as JSON). */
  readonly file?: JsonlWriter;
  readonly onMessage?: (message: QueueMessage) => void;
  readonly port?: number;
  /** Largest message, and batch, accepted. @default MAX_MESSAGE_BYTES (SQS's default, 256 KiB; the stack's quarantine queue takes 1 MiB) */
  readonly maxMessageBytes?: number;
  /** Faults to inject from the start (see {@link SqsFaults}); settable later as `sqs.faults`. */
  readonly faults?: SqsFaults;
}

/** Fault injection (tests and the soak): consulted per request and per batch entry. */
export interface SqsFaults {
  /** Per request (`SendMessageBatch`, `SendMessage`, ...): an error, a dropped or hung connection, a delay. */
  request?(operation: string, input: Record<string, unknown>): RequestFault | undefined;
  /** Per SendMessageBatch entry: fail it with this code instead of storing it. */
  entry?(queue: string, entry: Readonly<Record<string, unknown>>): { Code: string; Message: string; SenderFault: boolean } | undefined;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** Characters SQS refuses in a body: all but #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF (SQS developer guide, quotas-messages). */
const OUTSIDE_SQS_CHARSET = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

interface BodyProblem {
  readonly type: string;
  readonly code: string;
  readonly message: string;
}

function queueError(type: string, code: string, message: string): AwsServiceError {
  return new AwsServiceError(`com.amazonaws.sqs#${type}`, message, 400, `${code};Sender`);
}

export class LocalSqs {
  private readonly queues = new Map<string, QueueMessage[]>();
  private readonly maxBytes: number;
  endpoint = '';
  /** Faults to inject; undefined (the default) for none. */
  faults: SqsFaults | undefined;

  constructor(private readonly opts: SqsServerOptions) {
    this.faults = opts.faults;
    this.maxBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    for (const q of opts.queues) this.queues.set(q, []);
  }

  queueUrl(name: string): string {
    return `${this.endpoint}/${this.opts.account ?? LOCAL_ACCOUNT}/${name}`;
  }

  /** Every message sent to a queue, in order (received or not). */
  messages(queue: string): readonly QueueMessage[] {
    return [...(this.queues.get(queue) ?? [])];
  }

  private queueOf(url: unknown): { name: string; messages: QueueMessage[] } {
    if (typeof url !== 'string' || url === '') throw queueError('MissingRequiredParameterException', 'MissingParameter', 'QueueUrl is required.');
    const name = url.split('/').filter((s) => s !== '').at(-1) ?? '';
    const messages = this.queues.get(name);
    if (messages === undefined) throw queueError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return { name, messages };
  }

  private store(queue: string, messages: QueueMessage[], body: string): QueueMessage {
    const message: QueueMessage = { queue, messageId: randomUUID(), body, md5OfBody: md5(body), sentAt: Date.now(), receiveCount: 0, invisibleUntil: 0 };
    messages.push(message);
    if (this.opts.file !== undefined) {
      const head = JSON.stringify({ queue, messageId: message.messageId, sentAt: new Date(message.sentAt).toISOString() }).slice(0, -1);
      let json = false;
      try {
        JSON.parse(body);
        json = !/[\r\n]/.test(body);
      } catch {
        // not JSON: stored as a string
      }
      this.opts.file.write(`${head},"body":${json ? body : JSON.stringify(body)}}`, true);
    }
    this.opts.onMessage?.(message);
    return message;
  }

  private bodyProblem(body: unknown): BodyProblem | undefined {
    const invalid = (message: string) => ({ type: 'InvalidParameterValueException', code: 'InvalidParameterValue', message });
    if (typeof body !== 'string' || body === '') return invalid('The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(body, 'utf8') > this.maxBytes) return invalid(`One or more parameters are invalid. Reason: Message must be shorter than ${this.maxBytes} bytes.`);
    const bad = OUTSIDE_SQS_CHARSET.exec(body);
    if (bad !== null) {
      return { type: 'InvalidMessageContents', code: 'InvalidMessageContents', message: `Invalid characters found. Deleted message body contained U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}.` };
    }
    return undefined;
  }

  sendMessage(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    const problem = this.bodyProblem(input.MessageBody);
    if (problem !== undefined) throw queueError(problem.type, problem.code, problem.message);
    const m = this.store(q.name, q.messages, input.MessageBody as string);
    if (typeof input.DelaySeconds === 'number') m.invisibleUntil = m.sentAt + input.DelaySeconds * 1000;
    return { MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody };
  }

  sendMessageBatch(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) throw queueError('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw queueError('TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`);
    }
    const ids = entries.map((e: { Id?: unknown }) => e.Id);
    if (new Set(ids).size !== ids.length) throw queueError('BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
    const total = entries.reduce((n: number, e: { MessageBody?: unknown }) => n + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody, 'utf8') : 0), 0);
    if (total > this.maxBytes) {
      throw queueError('BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong', `Batch requests cannot be longer than ${this.maxBytes} bytes. You have sent ${total} bytes.`);
    }
    const Successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const e of entries as { Id?: unknown; MessageBody?: unknown }[]) {
      const id = String(e.Id);
      const problem = this.bodyProblem(e.MessageBody);
      if (problem !== undefined) {
        Failed.push({ Id: id, SenderFault: true, Code: problem.code, Message: problem.message });
        continue;
      }
      const injected = this.faults?.entry?.(q.name, e as Record<string, unknown>);
      if (injected !== undefined) {
        Failed.push({ Id: id, ...injected });
        continue;
      }
      const m = this.store(q.name, q.messages, e.MessageBody as string);
      Successful.push({ Id: id, MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody });
    }
    return { Successful, Failed };
  }

  receiveMessage(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    const max = typeof input.MaxNumberOfMessages === 'number' ? input.MaxNumberOfMessages : 1;
    if (max < 1 || max > 10) throw queueError('InvalidParameterValueException', 'InvalidParameterValue', 'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.');
    const visibility = typeof input.VisibilityTimeout === 'number' ? input.VisibilityTimeout : 30;
    const now = Date.now();
    const Messages = [];
    for (const m of q.messages) {
      if (Messages.length >= max) break;
      if (m.invisibleUntil > now) continue;
      m.receiveCount++;
      m.invisibleUntil = now + visibility * 1000;
      m.receiptHandle = randomUUID();
      Messages.push({
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        MD5OfBody: m.md5OfBody,
        Body: m.body,
        Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
      });
    }
    return { Messages };
  }

  changeMessageVisibility(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    const m = q.messages.find((x) => x.receiptHandle !== undefined && x.receiptHandle === input.ReceiptHandle);
    if (m === undefined) throw queueError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    const seconds = input.VisibilityTimeout;
    if (typeof seconds !== 'number' || seconds < 0 || seconds > 43_200) {
      throw queueError('InvalidParameterValueException', 'InvalidParameterValue', 'Value for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.');
    }
    m.invisibleUntil = Date.now() + seconds * 1000;
    return {};
  }

  /** Messages of a queue not yet deleted (visible or not). */
  pendingCount(queue: string): number {
    return this.queues.get(queue)?.length ?? 0;
  }

  deleteMessage(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    const index = q.messages.findIndex((m) => m.receiptHandle !== undefined && m.receiptHandle === input.ReceiptHandle);
    if (index < 0) throw queueError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    q.messages.splice(index, 1);
    return {};
  }

  /** The queue's ARN, as SQS forms it (`arn:aws:sqs:<region>:<account>:<name>`). */
  queueArn(name: string): string {
    return `arn:aws:sqs:${LOCAL_AWS.region}:${this.opts.account ?? LOCAL_ACCOUNT}:${name}`;
  }

  /** CreateQueue (standard queues; attributes are accepted and not enforced). Idempotent, as on SQS. */
  createQueue(input: Record<string, unknown>) {
    const name = input.QueueName;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw queueError('InvalidParameterValueException', 'InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    }
    if (!this.queues.has(name)) this.queues.set(name, []);
    return { QueueUrl: this.queueUrl(name) };
  }

  deleteQueue(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    this.queues.delete(q.name);
    return {};
  }

  /** GetQueueAttributes: QueueArn and the message counts. */
  getQueueAttributes(input: Record<string, unknown>) {
    const q = this.queueOf(input.QueueUrl);
    const now = Date.now();
    return {
      Attributes: {
        QueueArn: this.queueArn(q.name),
        ApproximateNumberOfMessages: String(q.messages.filter((m) => m.invisibleUntil <= now).length),
        ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.invisibleUntil > now).length),
      },
    };
  }

  /** SetQueueAttributes: accepted (a policy is not enforced here). */
  setQueueAttributes(input: Record<string, unknown>) {
    this.queueOf(input.QueueUrl);
    return {};
  }

  /** Stores `body` in the queue with this ARN, as EventBridge delivers to a queue target; false when there is none. */
  deliverToArn(arn: string, body: string): boolean {
    const name = arn.startsWith('arn:aws:sqs:') ? arn.split(':').at(-1) : undefined;
    const messages = name === undefined ? undefined : this.queues.get(name);
    if (name === undefined || messages === undefined || arn !== this.queueArn(name)) return false;
    // Not through store(): its file and onMessage are the quarantine's, and this is not quarantined.
    messages.push({ queue: name, messageId: randomUUID(), body, md5OfBody: md5(body), sentAt: Date.now(), receiveCount: 0, invisibleUntil: 0 });
    return true;
  }

  getQueueUrl(input: Record<string, unknown>) {
    const name = input.QueueName;
    if (typeof name !== 'string' || !this.queues.has(name)) throw queueError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return { QueueUrl: this.queueUrl(name) };
  }
}

export interface SqsServer {
  readonly sqs: LocalSqs;
  readonly endpoint: string;
  queueUrl(name: string): string;
  /** Requests being handled now (a delayed one included). */
  pending(): number;
  close(): Promise<void>;
}

/** Starts the SQS stand-in on a loopback port. */
export async function startSqsServer(opts: SqsServerOptions): Promise<SqsServer> {
  const sqs = new LocalSqs(opts);
  const server: RunningServer = await startAwsJsonServer(
    {
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      unknownOperationType: 'com.amazonaws.sqs#UnsupportedOperation',
      // A body's JSON escapes can double its size on the wire.
      maxBodyBytes: Math.max(2 * 1024 * 1024, 4 * (opts.maxMessageBytes ?? MAX_MESSAGE_BYTES)),
      operations: {
        SendMessage: (i) => sqs.sendMessage(i),
        SendMessageBatch: (i) => sqs.sendMessageBatch(i),
        ReceiveMessage: (i) => sqs.receiveMessage(i),
        DeleteMessage: (i) => sqs.deleteMessage(i),
        ChangeMessageVisibility: (i) => sqs.changeMessageVisibility(i),
        GetQueueUrl: (i) => sqs.getQueueUrl(i),
        CreateQueue: (i) => sqs.createQueue(i),
        DeleteQueue: (i) => sqs.deleteQueue(i),
        GetQueueAttributes: (i) => sqs.getQueueAttributes(i),
        SetQueueAttributes: (i) => sqs.setQueueAttributes(i),
      },
      faults: (operation, input) => sqs.faults?.request?.(operation, input),
    },
    opts.port ?? 0,
  );
  sqs.endpoint = server.endpoint;
  return { sqs, endpoint: server.endpoint, queueUrl: (name) => sqs.queueUrl(name), pending: () => server.pending(), close: () => server.close() };
}

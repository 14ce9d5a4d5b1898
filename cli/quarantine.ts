/**
 * `quarantine summary|show|redrive`: the quarantine queue from the command line.
 *
 * SQS has no peek: a message can only be read by receiving it, which hides it from other
 * receivers for the visibility timeout and counts a receive. So every command receives the
 * messages with a visibility timeout (`--visibility`, default 60 s) and, unless it deletes
 * them, releases them at once (ChangeMessageVisibility to 0): nothing is consumed, and the
 * quarantine queue has no consumer and no redrive policy for the receive counts to trip.
 * While a command runs, another reader may see fewer messages.
 *
 * - `summary`: counts by reason, by field, by rule (field: rule), with the oldest message.
 * - `show`: the messages, one JSON line each. A message over SQS's 1 MiB was stored whole in S3
 *   and queued as a pointer (functions/notifier/claim-check.ts): `show` prints the stored
 *   message, and `redrive` runs its record; `summary` needs only the pointer message.
 * - `redrive`: the recorded stream records through the current notifier (e.g. after a fix):
 *   what is now valid is published (its original `message_id`: it comes from the record) and
 *   its message deleted; what is still invalid stays. `--dry-run` prints what would be
 *   published, as `render` does, and changes nothing.
 * Exit status: 0 fine, 1 something could not be done, 2 usage or configuration error.
 */
import { existsSync } from 'node:fs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { classifyRecord } from '../functions/notifier/batch-processor.js';
import { ClaimCheckPointer, readClaimCheck, S3ClaimCheckStore, type ClaimCheckStore } from '../functions/notifier/claim-check.js';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { createTokenBucket } from '../functions/resync/token-bucket.js';
import { DirectoryOnFailureStore } from '../local/on-failure-directory.js';
import { flaggedClientSettings } from './aws-endpoints.js';
import { lazyS3Client } from './lazy-s3-client.js';
import type { CliIo } from './cli-io.js';
import { parseCommandArgs, usageError } from './command-args.js';
import { LOCAL_FLAG_USAGE } from './local-pipeline.js';
import { CLI_CONTEXT, cliNotifier, NOTIFIER_FLAGS, NOTIFIER_FLAGS_USAGE, notifierConfigFrom } from './notifier-setup.js';
import { renderEntry, renderRejection } from './render.js';

const USAGE = `usage: quarantine summary|show|redrive [--queue-url URL] [--max N] [--visibility SECONDS]
                  [--dry-run] [--rate MESSAGES_PER_SECOND] ${NOTIFIER_FLAGS_USAGE}
                  [--sqs-endpoint URL] [--eventbridge-endpoint URL] [--s3-endpoint URL | --directory DIR] [--region REGION]
  summary  counts the messages by reason, field and rule, with the oldest
  show     prints the messages, one JSON line each
  redrive  runs the recorded records through the current notifier: valid ones are published
           (original message_id) and their messages deleted; invalid ones stay (--dry-run:
           print what would be published, change nothing)
  SQS has no peek: messages are received with a visibility timeout (--visibility, default 60)
  and released at once, so nothing is consumed. At most --max messages (default 1000).
  A message too large for SQS is a pointer to the whole message in S3 (its claimCheck):
  show and redrive read it from there (s3:GetObject on the bucket's quarantine/ objects), or
  from the local pipeline's bucket stand-in (--directory .local/<run>/on-failure-bucket).
  Environment: QUARANTINE_QUEUE_URL (the stack's QuarantineQueueUrl output), the notifier's
  variables for redrive, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_EVENTBRIDGE,
  AWS_ENDPOINT_URL_S3 (flags win).
  ${LOCAL_FLAG_USAGE}`;

/** What the command reads of a quarantine message (functions/notifier/quarantine.ts). */
const QuarantineBody = z.object({
  reason: z.string(),
  error: z.optional(z.string()),
  issues: z.optional(z.array(z.object({ field: z.string(), rule: z.string() }))),
  errorCode: z.optional(z.string()),
  eventID: z.optional(z.string()),
  sequenceNumber: z.optional(z.string()),
  record: z.optional(z.unknown()),
  claimCheck: z.optional(ClaimCheckPointer),
});
type QuarantineBody = z.infer<typeof QuarantineBody>;

interface Received {
  readonly message: Message;
  readonly body: QuarantineBody | undefined;
  readonly sentAt: number | undefined;
}

export interface QuarantineCommandOptions {
  readonly env?: Record<string, string | undefined>;
  readonly sqs?: SQSClient;
  readonly eventBridge?: EventBridgeClient;
  readonly s3?: S3Client;
}

/** A received message with its claim check followed: the whole message, or why it could not be read. */
interface Resolved {
  readonly r: Received;
  /** The whole message: the body itself, or the stored one a pointer leads to. */
  readonly full: QuarantineBody | undefined;
  readonly pointer?: ClaimCheckPointer;
  readonly claimCheckError?: string;
}

const parseBody = (text: string | undefined): QuarantineBody | undefined => {
  try {
    const parsed = QuarantineBody.safeParse(JSON.parse(text ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** Receives up to `max` messages, each hidden for `visibility` seconds. */
async function receiveAll(sqs: SQSClient, queueUrl: string, max: number, visibility: number): Promise<Received[]> {
  const out: Received[] = [];
  let empty = 0;
  // Two empty answers in a row: a long poll (1 s) asks every SQS server, so the queue has no more visible message.
  while (out.length < max && empty < 2) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - out.length),
        VisibilityTimeout: visibility,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    );
    const messages = answer.Messages ?? [];
    empty = messages.length === 0 ? empty + 1 : 0;
    for (const m of messages) {
      const sent = Number(m.Attributes?.SentTimestamp);
      out.push({ message: m, body: parseBody(m.Body), sentAt: Number.isFinite(sent) ? sent : undefined });
    }
  }
  return out;
}

/** Follows each pointer to the stored message (the store of the pointer's bucket, made only when a pointer is there). */
async function resolveAll(received: readonly Received[], storeFor: (bucket: string) => ClaimCheckStore): Promise<Resolved[]> {
  const out: Resolved[] = [];
  for (const r of received) {
    const pointer = r.body?.claimCheck;
    if (pointer === undefined) {
      out.push({ r, full: r.body });
      continue;
    }
    const read = await readClaimCheck(r.body, storeFor(pointer.bucket));
    if (read.kind === 'message') {
      const full = QuarantineBody.safeParse(read.message);
      out.push(full.success ? { r, full: full.data, pointer } : { r, full: undefined, pointer, claimCheckError: 'the stored message is not a quarantine message' });
    } else if (read.kind === 'unreadable') out.push({ r, full: undefined, pointer, claimCheckError: read.reason });
    else out.push({ r, full: r.body });
  }
  return out;
}

async function release(sqs: SQSClient, queueUrl: string, messages: readonly Received[]): Promise<void> {
  for (const r of messages) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: r.message.ReceiptHandle, VisibilityTimeout: 0 }));
}

/** Counts by reason, field and rule, with the oldest message. */
export function summarize(messages: readonly Received[]) {
  const byReason: Record<string, number> = {};
  const byField: Record<string, number> = {};
  const byRule: Record<string, number> = {};
  let unreadable = 0;
  let oldest: Received | undefined;
  const bump = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);
  for (const r of messages) {
    if (r.body === undefined) {
      unreadable++;
      continue;
    }
    bump(byReason, r.body.reason);
    // A field counts once per message, however many of its rules it broke.
    for (const field of new Set((r.body.issues ?? []).map((i) => i.field))) bump(byField, field);
    for (const i of r.body.issues ?? []) bump(byRule, `${i.field}: ${i.rule}`);
    if (r.body.errorCode !== undefined) bump(byRule, `(entry): ${r.body.errorCode}`);
    if (r.sentAt !== undefined && (oldest?.sentAt === undefined || r.sentAt < oldest.sentAt)) oldest = r;
  }
  return {
    messages: messages.length,
    byReason,
    byField,
    byRule,
    ...(unreadable > 0 ? { unreadable } : {}),
    oldest:
      oldest === undefined
        ? null
        : { sentAt: new Date(oldest.sentAt!).toISOString(), messageId: oldest.message.MessageId, eventID: oldest.body?.eventID, reason: oldest.body?.reason },
  };
}

export async function quarantineCommand(args: string[], io: CliIo, options: QuarantineCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    io.stdout(USAGE + '\n');
    return 0;
  }
  const parsed = parseCommandArgs(rest, io, USAGE, {
    'queue-url': { type: 'string' },
    max: { type: 'string' },
    visibility: { type: 'string' },
    'dry-run': { type: 'boolean' },
    rate: { type: 'string' },
    'sqs-endpoint': { type: 'string' },
    'eventbridge-endpoint': { type: 'string' },
    's3-endpoint': { type: 'string' },
    directory: { type: 'string' },
    region: { type: 'string' },
    ...NOTIFIER_FLAGS,
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const s3 = lazyS3Client(options.s3, values, env);
  if (sub === 'help') {
    io.stdout(USAGE + '\n');
    return 0;
  }
  const usage = (why: string) => usageError(io, USAGE, why);
  if (sub !== 'summary' && sub !== 'show' && sub !== 'redrive') return usage(`unknown subcommand ${sub ?? '(none)'}`);
  if (values.directory !== undefined && values['s3-endpoint'] !== undefined) return usage('give --s3-endpoint or --directory, not both');
  if (values.directory !== undefined && !existsSync(values.directory)) return usage(`no directory ${values.directory}`);
  const directory = values.directory === undefined ? undefined : new DirectoryOnFailureStore(values.directory);
  const queueUrl = values['queue-url'] ?? values['quarantine-queue-url'] ?? env.QUARANTINE_QUEUE_URL;
  if (queueUrl === undefined || queueUrl === '') {
    io.stderr('quarantine: no queue: give --queue-url or set QUARANTINE_QUEUE_URL, or add --local to use a running npm start\n');
    return 2;
  }
  const max = Number(values.max ?? 1000);
  const visibility = Number(values.visibility ?? 60);
  if (!Number.isInteger(max) || max < 1) return usage('--max must be a whole number of at least 1');
  if (!Number.isInteger(visibility) || visibility < 1 || visibility > 43_200) return usage('--visibility must be 1 to 43200 seconds');
  const sqs = options.sqs ?? new SQSClient(flaggedClientSettings('sqs', values, env));

  const received = await receiveAll(sqs, queueUrl, max, visibility);
  if (sub === 'summary') {
    await release(sqs, queueUrl, received);
    io.stdout(JSON.stringify(summarize(received), null, 2) + '\n');
    return 0;
  }
  let resolved: Resolved[];
  try {
    resolved = await resolveAll(received, (name) => directory?.claimCheck(name) ?? new S3ClaimCheckStore(s3(), name));
  } catch (error) {
    await release(sqs, queueUrl, received);
    io.stderr(`cannot reach S3 for the claim-checked messages: ${(error as Error).message}\n`);
    return 1;
  }
  if (sub === 'show') {
    await release(sqs, queueUrl, received);
    for (const { r, full, pointer, claimCheckError } of resolved) {
      const sentAt = r.sentAt === undefined ? null : new Date(r.sentAt).toISOString();
      io.stdout(
        JSON.stringify({
          messageId: r.message.MessageId,
          sentAt,
          receiveCount: Number(r.message.Attributes?.ApproximateReceiveCount ?? 0),
          ...(pointer === undefined ? {} : { claimCheck: pointer }),
          ...(claimCheckError === undefined ? {} : { claimCheckError }),
          body: full ?? r.body ?? r.message.Body,
        }) + '\n',
      );
    }
    return resolved.some((x) => x.claimCheckError !== undefined) ? 1 : 0;
  }

  // redrive
  let config;
  try {
    config = notifierConfigFrom({ ...values, 'quarantine-queue-url': values['quarantine-queue-url'] ?? queueUrl }, env);
  } catch (error) {
    await release(sqs, queueUrl, received);
    io.stderr(`${(error as Error).message}\n`);
    return 2;
  }
  const build = createNotificationBuilder(config);
  const dryRun = values['dry-run'] === true;
  const valid: (Received & { readonly record: unknown; readonly sequenceNumber: string | undefined })[] = [];
  const stays: Received[] = [];
  let unreadable = 0;
  for (const { r, full, claimCheckError } of resolved) {
    const record = full?.record;
    if (claimCheckError !== undefined) {
      unreadable++;
      stays.push(r);
      io.stderr(JSON.stringify({ messageId: r.message.MessageId, stays: `claim check: ${claimCheckError}` }) + '\n');
      continue;
    }
    const outcome = record === undefined ? undefined : classifyRecord(record, build);
    if (outcome === undefined || outcome.kind === 'invalid') {
      stays.push(r);
      if (dryRun || outcome !== undefined) io.stderr((outcome === undefined ? JSON.stringify({ messageId: r.message.MessageId, stays: 'no stream record in the message' }) : renderRejection(record, outcome.issues)) + '\n');
      continue;
    }
    valid.push({ ...r, record, sequenceNumber: full?.sequenceNumber });
    if (dryRun && outcome.kind === 'notify') io.stdout(renderEntry(outcome.notification.entry) + '\n');
  }
  if (dryRun) {
    await release(sqs, queueUrl, received);
    io.stderr(JSON.stringify({ dryRun: true, wouldRedrive: valid.length, stays: stays.length, ...(unreadable > 0 ? { unreadable } : {}) }) + '\n');
    return unreadable > 0 ? 1 : 0;
  }
  await release(sqs, queueUrl, stays);

  const eventBridge = options.eventBridge ?? new EventBridgeClient({ ...flaggedClientSettings('eventbridge', values, env), maxAttempts: 1 });
  // What EventBridge refuses again is quarantined anew, through the same claim check when it is too large.
  const claimCheck = config.quarantineBucket === undefined ? undefined : (directory?.claimCheck(config.quarantineBucket) ?? new S3ClaimCheckStore(s3(), config.quarantineBucket));
  const notifier = cliNotifier(config, eventBridge, sqs, claimCheck);
  const bucket = createTokenBucket({ ratePerSecond: Number(values.rate ?? 10) || 10 });
  let redriven = 0;
  let failed = 0;
  // Ten at a time, through the stream's own handler: the same entries, the same message_ids.
  for (let i = 0; i < valid.length; i += 10) {
    const chunk = valid.slice(i, i + 10);
    for (let n = 0; n < chunk.length; n++) await bucket.take();
    let response;
    try {
      response = await notifier({ Records: chunk.map((r) => r.record) }, CLI_CONTEXT);
    } catch (error) {
      io.stderr(`not redriven: ${(error as Error).message}\n`);
      await release(sqs, queueUrl, valid.slice(i));
      failed += valid.length - i;
      break;
    }
    // Everything before the earliest record handed back is published (or quarantined anew).
    const first = response.batchItemFailures[0]?.itemIdentifier;
    const cut = first === undefined ? chunk.length : chunk.findIndex((r) => r.sequenceNumber === first || (r.record as { dynamodb?: { SequenceNumber?: string } }).dynamodb?.SequenceNumber === first);
    const doneCount = cut < 0 ? 0 : cut;
    for (const r of chunk.slice(0, doneCount)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: r.message.ReceiptHandle }));
    await release(sqs, queueUrl, chunk.slice(doneCount));
    redriven += doneCount;
    failed += chunk.length - doneCount;
  }
  io.stdout(JSON.stringify({ redriven, stays: stays.length, failed, ...(unreadable > 0 ? { unreadable } : {}) }) + '\n');
  return failed > 0 || unreadable > 0 ? 1 : 0;
}

/**
 * `render FILE`: what the notifier would publish for a stream event, without calling AWS.
 * One JSON line per PutEvents entry on stdout; one JSON line per rejected record on stderr;
 * exit status 1 when any record was rejected, 2 for a usage or configuration error.
 */
import { readFile } from 'node:fs/promises';
import { ENV } from '../functions/notifier/config.js';
import { classifyRecord } from '../functions/notifier/batch-processor.js';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { ConfigurationError, type FieldIssue } from '../functions/notifier/errors.js';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { CliIo } from './cli-io.js';
import { parseCommandArgs, usageError } from './command-args.js';
import { notifierConfigFrom } from './notifier-setup.js';

const USAGE = `usage: render FILE|- [--watched-fields a,b] [--watched-field-resolutions f=n,...] [--publisher-host HOST] [--source SOURCE] [--bus-name BUS]
  Prints each PutEvents entry the notifier would publish for a DynamoDB stream event
  ({"Records": [...]}) or a single stream record. Flags override the environment
  variables ${Object.values(ENV).join(', ')}.
  Ends with a summary line on stderr; exit status 1 when a record was rejected (the sample
  samples/stream-event.json holds one invalid record on purpose, to show what a rejection says).`;

/** One PutEvents entry as `render` prints it (one JSON line, no newline); `redrive --dry-run` prints the same. */
export function renderEntry(e: PutEventsRequestEntry): string {
  return JSON.stringify({ Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Time: e.Time?.toISOString(), EventBusName: e.EventBusName });
}

/** A rejected record as `render` prints it on stderr. */
export function renderRejection(raw: unknown, issues: readonly FieldIssue[]): string {
  const r = raw as { eventID?: unknown } | null;
  return JSON.stringify({ rejected: true, eventID: typeof r?.eventID === 'string' ? r.eventID : null, issues });
}

/** Runs `render`; returns the exit status. */
export async function renderCommand(args: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    io,
    USAGE,
    {
      'watched-fields': { type: 'string' },
      'watched-field-resolutions': { type: 'string' },
      'publisher-host': { type: 'string' },
      source: { type: 'string' },
      'bus-name': { type: 'string' },
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError(io, USAGE);
  let build;
  try {
    build = createNotificationBuilder(notifierConfigFrom(values, env));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 2;
  }

  let input: unknown;
  const file = positionals[0]!;
  try {
    const text = file === '-' ? await io.readStdin() : await readFile(file, 'utf8');
    input = JSON.parse(text);
  } catch (error) {
    io.stderr(`cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}\n`);
    return 2;
  }
  const records = typeof input === 'object' && input !== null && Array.isArray((input as { Records?: unknown }).Records) ? (input as { Records: unknown[] }).Records : [input];

  let rejected = 0;
  const counted = { notify: 0, heartbeat: 0, suppressed: 0, ignored: 0, other_region: 0 };
  for (const raw of records) {
    let outcome;
    try {
      outcome = classifyRecord(raw, build);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      io.stderr(`configuration error: ${error.message}\n`);
      return 2;
    }
    if (outcome.kind === 'notify') {
      counted.notify++;
      io.stdout(renderEntry(outcome.notification.entry) + '\n');
    } else if (outcome.kind === 'heartbeat') {
      // A record of the reserved heartbeat item: its hypervisor_notifier.heartbeat entry (handled_at is now).
      counted.heartbeat++;
      io.stdout(renderEntry(outcome.heartbeat.entry) + '\n');
    } else if (outcome.kind === 'invalid') {
      rejected++;
      io.stderr(renderRejection(raw, outcome.issues) + '\n');
    } else if (outcome.kind === 'suppressed' || outcome.kind === 'ignored' || outcome.kind === 'other_region') counted[outcome.kind]++;
  }
  // On stderr, so stdout stays the entries alone (pipeable into test-pattern).
  io.stderr(`render: ${records.length} records in, ${counted.notify} notifications out${counted.heartbeat > 0 ? `, ${counted.heartbeat} heartbeats out` : ''}, ${counted.suppressed} suppressed, ${counted.ignored} ignored${counted.other_region > 0 ? `, ${counted.other_region} written in another region` : ''}, ${rejected} rejected\n`);
  return rejected > 0 ? 1 : 0;
}

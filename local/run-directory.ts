/**
 * The local run directory (`.local/` by default, git-ignored) and its JSONL files: one JSON
 * value a line, appended in order, flushed before the pipeline reports it has stopped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const DEFAULT_RUN_DIRECTORY = '.local';

/** The files one run writes, by role. */
export interface RunFiles {
  readonly directory: string;
  /** Every delivery of an event to a rule target (`{rule, target, event}`). */
  readonly events: string;
  /** Every message the quarantine stand-in received. */
  readonly quarantine: string;
  /** Records the event source mapping gave up on (Lambda's on-failure destination). */
  readonly onFailure: string;
}

/** Creates the directory and empties the run's files (each run starts its own record). */
export function prepareRunDirectory(directory: string = DEFAULT_RUN_DIRECTORY): RunFiles {
  const dir = resolve(directory);
  mkdirSync(dir, { recursive: true });
  const files: RunFiles = {
    directory: dir,
    events: join(dir, 'events.jsonl'),
    quarantine: join(dir, 'quarantine.jsonl'),
    onFailure: join(dir, 'on-failure.jsonl'),
  };
  for (const f of [files.events, files.quarantine, files.onFailure]) writeFileSync(f, '');
  return files;
}

/** Appends lines to a file in call order; `flush()` resolves when all are written. */
export class JsonlWriter {
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(readonly path: string) {}

  /** Appends a value as one JSON line, or a line of JSON text already serialised (no newline in it). */
  write(value: unknown, alreadyJson = false): void {
    const text = alreadyJson ? String(value) : JSON.stringify(value);
    if (text.includes('\n')) throw new Error('a JSONL line must not contain a newline');
    this.tail = this.tail.then(() => appendFile(this.path, text + '\n', 'utf8')).catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  /** Waits for every line written so far; rejects with the first write error, if any. */
  async flush(): Promise<void> {
    await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }
}

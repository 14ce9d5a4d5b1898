/**
 * The local stand-in for the stack's heartbeat schedule (infra/heartbeat.ts): the same
 * `UpdateItem` of the reserved heartbeat item, every few seconds, with the time of the write.
 */
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { heartbeatUpdateItem } from '../functions/notifier/contract/index.js';

export interface HeartbeatWriterOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** @default 5000 */
  readonly intervalMs?: number;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface HeartbeatWriter {
  /** Heartbeats written so far. */
  readonly written: () => number;
  /** Writes one now (also what each tick does). */
  beat(): Promise<void>;
  stop(): void;
}

/** Writes a heartbeat at once and then every `intervalMs` until stopped. */
export function startHeartbeatWriter(opts: HeartbeatWriterOptions): HeartbeatWriter {
  const now = opts.now ?? Date.now;
  let written = 0;
  const beat = async (): Promise<void> => {
    try {
      await opts.client.send(new UpdateItemCommand(heartbeatUpdateItem(opts.tableName, new Date(now()).toISOString())));
      written++;
    } catch (error) {
      opts.onError?.(error);
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), opts.intervalMs ?? 5_000);
  return { written: () => written, beat, stop: () => clearInterval(timer) };
}

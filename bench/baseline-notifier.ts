/**
 * The benchmark's baseline: the notifier a capable user would write with today's libraries,
 * so the bench has a peer in the same run. Powertools' `BatchProcessor` for DynamoDB streams
 * hands each record to a record handler; the handler parses the image with zod into an object,
 * builds Nova's message as an object, `JSON.stringify`s it and sends one PutEvents request for
 * the record. At most `inFlight` requests are out at once (the notifier's own bound), so the
 * two are compared with the same number of requests in flight.
 *
 * Its payloads are Nova's byte for byte for ordinary nodes (test/bench/baseline-notifier.test.ts
 * checks them against the reference vectors). What it does not do, and the notifier does:
 * integers beyond 2^53 (a JavaScript number), IPv6 normalisation, soft deletes, quarantine (a
 * bad record is reported as a batch item failure, so Lambda retries it until it expires).
 *
 * @example
 * ```ts
 * const handle = createBaselineNotifier({ eventBridge, eventBusName: 'bus', eventSource: 'nova', publisherHostFallback: 'conf-host' });
 * const { batchItemFailures } = await handle(event, context);
 * ```
 */
import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod';
import { SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';

const N = z.object({ N: z.string() }).transform((a) => Number(a.N));
const S = z.object({ S: z.string() }).transform((a) => a.S);
const NULL = z.object({ NULL: z.literal(true) }).transform(() => null);
const int = N.pipe(z.number().int());
const nullable = <T extends z.ZodType>(t: T) => z.union([t, NULL]).optional().transform((v) => v ?? null);

/** A compute node image (DynamoDB attribute values) → a plain object. */
const ComputeNodeImage = z.object({
  id: int,
  uuid: S,
  host: nullable(S),
  vcpus: int,
  memory_mb: int,
  local_gb: int,
  vcpus_used: int,
  memory_mb_used: int,
  local_gb_used: int,
  hypervisor_type: S,
  hypervisor_version: int,
  hypervisor_hostname: nullable(S),
  free_ram_mb: nullable(int),
  free_disk_gb: nullable(int),
  current_workload: nullable(int),
  running_vms: nullable(int),
  disk_available_least: nullable(int),
  host_ip: nullable(S),
});
type ComputeNode = z.infer<typeof ComputeNodeImage>;

const DeleteImage = z.object({ id: int, uuid: S });

export interface BaselineOptions {
  readonly eventBridge: EventBridgeClient;
  readonly eventBusName: string;
  readonly eventSource: string;
  readonly publisherHostFallback: string;
  /** @default the spec's watched fields */
  readonly watchedFields?: readonly string[];
  /** Most PutEvents requests out at once. @default 4 (the notifier's default) */
  readonly inFlight?: number;
}

export type BaselineHandler = (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/** Python's `str(datetime)` of epoch seconds: `2026-11-26 19:10:59` (with `.ffffff` when there are microseconds). */
function novaTimestamp(seconds: number): string {
  const micros = Math.round(seconds * 1e6) % 1e6;
  const text = new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return micros === 0 ? text : `${text}.${String(micros).padStart(6, '0')}`;
}

/** Resolves at most `limit` acquisitions at a time. */
function limiter(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export function createBaselineNotifier(opts: BaselineOptions): BaselineHandler {
  const watched = (opts.watchedFields ?? SPEC_WATCHED_FIELDS) as readonly (keyof ComputeNode)[];
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const limit = limiter(opts.inFlight ?? 4);

  const payload = (name: string, data: object) => ({
    'nova_object.name': name,
    'nova_object.namespace': 'nova',
    'nova_object.version': '1.0',
    'nova_object.data': data,
  });

  async function recordHandler(record: DynamoDBRecord): Promise<void> {
    const d = record.dynamodb!;
    let eventType: string;
    let node: { host?: string | null };
    let data: object;
    let changed: string[] = [];
    if (record.eventName === 'REMOVE') {
      const old = DeleteImage.parse(d.OldImage);
      eventType = 'compute_node.delete';
      node = { host: S.safeParse(d.OldImage?.host).data ?? null };
      data = payload('ComputeNodeDeletePayload', { id: old.id, uuid: old.uuid });
    } else {
      const n = ComputeNodeImage.parse(d.NewImage);
      if (record.eventName === 'MODIFY') {
        const o = ComputeNodeImage.parse(d.OldImage);
        changed = watched.filter((f) => o[f] !== n[f]);
        if (changed.length === 0) return;
      }
      eventType = record.eventName === 'INSERT' ? 'compute_node.create' : 'compute_node.update';
      node = n;
      // Written out in Nova's field order: the payload's key order is part of the contract.
      data = payload('ComputeNodePayload', {
        id: n.id,
        uuid: n.uuid,
        host: n.host,
        vcpus: n.vcpus,
        memory_mb: n.memory_mb,
        local_gb: n.local_gb,
        vcpus_used: n.vcpus_used,
        memory_mb_used: n.memory_mb_used,
        local_gb_used: n.local_gb_used,
        hypervisor_type: n.hypervisor_type,
        hypervisor_version: n.hypervisor_version,
        hypervisor_hostname: n.hypervisor_hostname,
        free_ram_mb: n.free_ram_mb,
        free_disk_gb: n.free_disk_gb,
        current_workload: n.current_workload,
        running_vms: n.running_vms,
        disk_available_least: n.disk_available_least,
        host_ip: n.host_ip,
      });
    }
    const seconds = d.ApproximateCreationDateTime!;
    const detail = {
      message_id: randomUUID(),
      publisher_id: `nova-compute:${node.host || opts.publisherHostFallback}`,
      event_type: eventType,
      priority: 'INFO',
      payload: data,
      timestamp: novaTimestamp(seconds),
      change: { sequence_number: d.SequenceNumber, changed_fields: changed, origin: 'stream', cause: record.eventName?.toLowerCase() },
    };
    const entry = { Source: opts.eventSource, DetailType: eventType, Detail: JSON.stringify(detail), Time: new Date(seconds * 1000), EventBusName: opts.eventBusName };
    const out = await limit(() => opts.eventBridge.send(new PutEventsCommand({ Entries: [entry] })));
    if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`PutEvents refused the entry: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
  }

  return (event, context) =>
    processPartialResponse(event as DynamoDBStreamEvent, recordHandler, processor, {
      context: context as Context,
      throwOnFullBatchFailure: false,
    });
}

/**
 * The object Lambda's event source mapping writes to an S3 on-failure destination when it
 * gives up on a batch: the invocation record (metadata) plus, in `payload`, the original
 * invocation event `{"Records": [...]}` "as an escaped JSON string". Lambda developer guide,
 * "Retain discarded records for a DynamoDB event source in Lambda" (services-dynamodb-errors,
 * "Example Amazon S3 invocation record"); object keys follow
 * `aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`.
 *
 * Also read, for the operator's `--file`: the local pipeline's older on-failure lines, which
 * carry the records in `records` instead of `payload`, and a payload given as an object.
 * The records themselves are not validated here: they go through the notifier, which
 * validates each one and quarantines what it cannot notify.
 */
import * as z from 'zod/mini';

const BatchInfo = z.object({
  shardId: z.optional(z.string()),
  startSequenceNumber: z.optional(z.string()),
  endSequenceNumber: z.optional(z.string()),
  approximateArrivalOfFirstRecord: z.optional(z.string()),
  approximateArrivalOfLastRecord: z.optional(z.string()),
  batchSize: z.optional(z.number()),
  streamArn: z.optional(z.string()),
});

const Event = z.object({ Records: z.array(z.unknown()) });

export const OnFailureObject = z.object({
  version: z.optional(z.string()),
  timestamp: z.optional(z.string()),
  requestContext: z.optional(z.object({ condition: z.optional(z.string()), approximateInvokeCount: z.optional(z.number()) })),
  DDBStreamBatchInfo: z.optional(BatchInfo),
  payload: z.optional(z.union([z.string(), Event])),
  records: z.optional(z.array(z.unknown())),
});
export type OnFailureObject = z.infer<typeof OnFailureObject>;

/** What a redrive needs of one on-failure object. */
export interface DiscardedBatch {
  /** The stream records of the failed batch, as Lambda delivered them. */
  readonly records: readonly unknown[];
  readonly shardId: string | undefined;
  readonly startSequenceNumber: string | undefined;
  /** When Lambda gave up on the batch. */
  readonly timestamp: string | undefined;
}

/** Thrown for an object that is not an on-failure invocation record with its records. */
export class UnreadableObjectError extends Error {
  override readonly name = 'UnreadableObjectError';
}

/** Parses an on-failure object's text; throws UnreadableObjectError saying what is wrong. */
export function parseOnFailureObject(text: string): DiscardedBatch {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UnreadableObjectError(`not JSON: ${(error as Error).message}`);
  }
  return readOnFailureObject(json);
}

/** Reads an already-parsed on-failure object. */
export function readOnFailureObject(json: unknown): DiscardedBatch {
  const parsed = OnFailureObject.safeParse(json);
  if (!parsed.success) {
    throw new UnreadableObjectError(`not a Lambda on-failure invocation record: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(object)'}: ${i.message}`).join('; ')}`);
  }
  const o = parsed.data;
  let records: readonly unknown[];
  if (typeof o.payload === 'string') {
    let event: unknown;
    try {
      event = JSON.parse(o.payload);
    } catch (error) {
      throw new UnreadableObjectError(`payload: not JSON text: ${(error as Error).message}`);
    }
    const e = Event.safeParse(event);
    if (!e.success) throw new UnreadableObjectError('payload: not a stream event (no Records array)');
    records = e.data.Records;
  } else if (o.payload !== undefined) records = o.payload.Records;
  else if (o.records !== undefined) records = o.records;
  else throw new UnreadableObjectError('payload: missing (an SQS or SNS on-failure record carries only metadata; only an S3 destination keeps the records)');
  return {
    records,
    shardId: o.DDBStreamBatchInfo?.shardId,
    startSequenceNumber: o.DDBStreamBatchInfo?.startSequenceNumber,
    timestamp: o.timestamp,
  };
}

/** The S3 key Lambda would give the object (the layout the redrive and its CLI list by prefix). */
export function onFailureObjectKey(mappingId: string, shardId: string, at: Date, randomId: string): string {
  const iso = at.toISOString();
  const [date, time] = [iso.slice(0, 10), iso.slice(11, 19)];
  return `aws/lambda/${mappingId}/${shardId}/${date.replaceAll('-', '/')}/${date}T${time.replaceAll(':', '.')}-${randomId}`;
}

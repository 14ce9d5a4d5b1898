/**
 * A DynamoDB Streams record as the SDK returns it → the record as Lambda delivers it to a
 * function: `eventSourceARN` filled in (DynamoDB Local leaves it out), the creation time in
 * epoch seconds (a number, not a Date; optionally a finer local stamp, to the millisecond),
 * attribute values as plain JSON (`{"S": ".."}`, binary as base64 text).
 */
import type { _Record as SdkStreamRecord, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from 'aws-lambda';

export type LambdaStreamRecord = DynamoDBRecord & {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventSourceARN: string;
  dynamodb: NonNullable<DynamoDBRecord['dynamodb']> & { SequenceNumber: string; ApproximateCreationDateTime: number };
};

/** The region in an ARN (`arn:aws:dynamodb:<region>:...`), if it has one. */
export function arnRegion(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** One attribute value in Lambda's JSON form. */
export function toLambdaAttribute(value: SdkAttributeValue): LambdaAttributeValue {
  const v = value as unknown as Record<string, unknown>;
  if (v.S !== undefined) return { S: v.S as string };
  if (v.N !== undefined) return { N: v.N as string };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL as boolean };
  if (v.NULL !== undefined) return { NULL: v.NULL as boolean };
  if (v.B !== undefined) return { B: base64(v.B as Uint8Array) };
  if (v.SS !== undefined) return { SS: [...(v.SS as string[])] };
  if (v.NS !== undefined) return { NS: [...(v.NS as string[])] };
  if (v.BS !== undefined) return { BS: (v.BS as Uint8Array[]).map(base64) };
  if (v.L !== undefined) return { L: (v.L as SdkAttributeValue[]).map(toLambdaAttribute) };
  if (v.M !== undefined) return { M: toLambdaImage(v.M as Record<string, SdkAttributeValue>) };
  // An unknown member: pass it through as the SDK read it.
  return JSON.parse(JSON.stringify(value)) as LambdaAttributeValue;
}

export function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, LambdaAttributeValue> {
  const out: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaAttribute(value);
  return out;
}

function epochSeconds(value: unknown): number {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (typeof value === 'number') return Math.floor(value);
  if (typeof value === 'string') return Math.floor(Date.parse(value) / 1000);
  return Math.floor(Date.now() / 1000);
}

/**
 * Converts one SDK record for delivery from the stream `streamArn`. With `creationMs`, the
 * creation time is that instant to the millisecond (the local poller's stamp, see
 * `stream-creation-times.ts`) instead of DynamoDB Local's, which is truncated to the minute: a
 * resync sweep compares notification timestamps with the run's first marker record
 * (docs/resync-and-indexer.md, "The sweep"), and a minute-wide tie would keep nodes deleted
 * shortly before a run. AWS gives whole seconds ("rounded down to the closest second",
 * StreamRecord in the DynamoDB Streams API reference).
 */
export function toLambdaRecord(record: SdkStreamRecord, streamArn: string, creationMs?: number): LambdaStreamRecord {
  const d = record.dynamodb ?? {};
  const dynamodb: LambdaStreamRecord['dynamodb'] = {
    ApproximateCreationDateTime: creationMs === undefined ? epochSeconds(d.ApproximateCreationDateTime) : creationMs / 1000,
    ...(d.Keys === undefined ? {} : { Keys: toLambdaImage(d.Keys) }),
    ...(d.NewImage === undefined ? {} : { NewImage: toLambdaImage(d.NewImage) }),
    ...(d.OldImage === undefined ? {} : { OldImage: toLambdaImage(d.OldImage) }),
    SequenceNumber: d.SequenceNumber ?? '',
    ...(d.SizeBytes === undefined ? {} : { SizeBytes: d.SizeBytes }),
    ...(d.StreamViewType === undefined ? {} : { StreamViewType: d.StreamViewType }),
  };
  const identity = record.userIdentity;
  return {
    eventID: record.eventID ?? '',
    eventName: record.eventName as LambdaStreamRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: arnRegion(streamArn) ?? record.awsRegion ?? 'us-east-1',
    dynamodb,
    eventSourceARN: streamArn,
    ...(identity?.Type !== undefined && identity.PrincipalId !== undefined
      ? { userIdentity: { type: identity.Type, principalId: identity.PrincipalId } }
      : {}),
  };
}

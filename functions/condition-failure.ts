/**
 * Whether a DynamoDB write was refused by its condition (as opposed to failing). Checked by
 * name as well as by class: a client from another copy of the SDK throws its own class.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return error instanceof ConditionalCheckFailedException || (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

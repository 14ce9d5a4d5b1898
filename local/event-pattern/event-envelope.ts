/**
 * The shape of an event as EventBridge delivers it to targets. TestEventPattern refuses
 * events without it, and so does our CLI: the usual mistake is to test a PutEvents
 * entry (`Source`, `DetailType`, `Detail` as a JSON *string*), which would otherwise
 * just print `false` and send the author hunting in the wrong place.
 */
import { z } from 'zod';
import { describeJsonType } from './invalid-pattern-error.js';

const DETAIL_HINT =
  'must be a JSON object (a PutEvents entry carries "Detail" as a JSON string; test the event as delivered to targets)';

const EventEnvelope = z.looseObject({
  version: z.string().optional(),
  id: z.string({ error: 'is required and must be a string' }),
  'detail-type': z.string({ error: 'is required and must be a string' }),
  source: z.string({ error: 'is required and must be a string' }),
  account: z.string({ error: 'is required and must be a string' }),
  time: z.string({ error: 'is required and must be a string' }),
  region: z.string({ error: 'is required and must be a string' }),
  resources: z.array(z.string(), { error: 'is required and must be an array of strings' }),
  detail: z.record(z.string(), z.unknown(), { error: DETAIL_HINT }).optional(),
});

/**
 * Returns one line per problem (`field: what is wrong`), empty when the event has the
 * fields TestEventPattern requires (id, account, source, time, region, resources, detail-type).
 */
export function eventEnvelopeProblems(event: unknown): string[] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return [`the event must be a JSON object, got ${describeJsonType(event)}`];
  }
  const result = EventEnvelope.safeParse(event);
  if (result.success) return [];
  const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(event)'}: ${issue.message}`);
  if ('DetailType' in event || 'Detail' in event) {
    problems.unshift('this looks like a PutEvents entry (Source, DetailType, Detail); test the event as EventBridge delivers it to targets');
  }
  return problems;
}

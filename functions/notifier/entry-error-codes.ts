/**
 * What a per-entry PutEvents `ErrorCode` means for the entry's record. PutEvents answers
 * HTTP 200 and refuses single entries; the code says whether the entry is worth sending again,
 * whether the record's content is to blame (quarantine it), or whether the setup is (access, the
 * account, the service): then no record is to blame, the entry is left unsent and reported to
 * Lambda, and the PutEventsFailures and iterator-age alarms fire until someone fixes the setup.
 *
 * Every code AWS documents, from the EventBridge API reference, PutEventsResultEntry, `ErrorCode`
 * (docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html):
 *
 * | code | AWS says | here |
 * | --- | --- | --- |
 * | `InternalFailure` | retryable: an unknown error | `transient`: sent again until the deadline |
 * | `ThrottlingException` | retryable: throttled | `transient` |
 * | `AccessDeniedException` | not retryable: no access to perform the action | `setup` |
 * | `NotAuthorizedForSourceException` | not retryable: no permission to publish this source onto this bus | `setup` |
 * | `NotAuthorizedForDetailTypeException` | not retryable: no permission to publish this detail type onto this bus | `setup` |
 * | `InvalidAccountIdException` | not retryable: the account ID is not valid | `setup` (the account comes from `EVENT_BUS_NAME`, not from the record) |
 * | `RedactionFailure` | not retryable: redacting the CloudTrail event failed | `setup` (the service's own step; nothing in the record to fix) |
 * | `InvalidArgument` | not retryable: a parameter is not valid | `content` (what the configuration sets is validated at start-up; what is left comes from the record) |
 * | `MalformedDetail` | not retryable: the JSON is not valid | `content` (an integer outside 64 bits, say) |
 *
 * Any other code is `setup` too: a code AWS does not document proves nothing against the record,
 * and reporting it to Lambda loses nothing (its retries, then the on-failure destination), where
 * the quarantine would set a valid notification aside.
 */

/** `transient`: send again; `content`: the record is to blame (quarantine); `setup`: nobody's record is (report to Lambda). */
export type EntryFault = 'transient' | 'content' | 'setup';

const ENTRY_FAULTS: ReadonlyMap<string, EntryFault> = new Map<string, EntryFault>([
  ['InternalFailure', 'transient'],
  ['ThrottlingException', 'transient'],
  // Not in AWS's list for PutEvents: the name other AWS APIs give InternalFailure. It blames the
  // service, so retrying it is as safe as retrying InternalFailure.
  ['InternalException', 'transient'],
  ['AccessDeniedException', 'setup'],
  ['NotAuthorizedForSourceException', 'setup'],
  ['NotAuthorizedForDetailTypeException', 'setup'],
  ['InvalidAccountIdException', 'setup'],
  ['RedactionFailure', 'setup'],
  ['InvalidArgument', 'content'],
  ['MalformedDetail', 'content'],
]);

/** Whose fault a per-entry error code is (one map look-up: called per refused entry). */
export function entryFault(code: string): EntryFault {
  return ENTRY_FAULTS.get(code) ?? 'setup';
}

/** The per-entry codes worth sending again. */
export const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set([...ENTRY_FAULTS].filter(([, fault]) => fault === 'transient').map(([code]) => code));

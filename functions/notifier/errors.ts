/**
 * Typed errors. Each says what is wrong in words an operator can act on.
 */

/** The deployment is misconfigured (environment, stream view type): no record can be handled. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** One offending field of a record: which field, the value found, the rule it broke. */
export interface FieldIssue {
  readonly field: string;
  /** The DynamoDB attribute value as found (absent when the attribute is missing). */
  readonly value?: unknown;
  readonly rule: string;
}

/** A stream record that cannot become a notification; it goes to quarantine. */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.rule} (got ${i.value === undefined ? 'nothing' : JSON.stringify(i.value)})`).join('; '));
  }
}

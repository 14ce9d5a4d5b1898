/**
 * Which thrown failures are worth retrying: a request that throws is transient when it never
 * reached the service (network, time-out) or the service said so (throttling, 5xx). PutEvents'
 * per-entry error codes are classified in `entry-error-codes.ts`.
 */

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalFailure',
  'InternalException',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED']);

/** True when a thrown SDK or network error may succeed if the request is sent again. */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.$retryable !== undefined) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429;
  // No HTTP status: the request never got an answer (socket hang-up and the like).
  return e.$metadata === undefined || status === undefined;
}

/**
 * Permanent errors the entries are not to blame for: the caller's access or credentials, or a
 * resource (bus, queue, key) that is missing or unusable. Sending the entries one by one would
 * only repeat them; every other permanent error is taken as one about the request's content.
 */
const SETUP_ERROR_NAMES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
  'NotAuthorized',
  'OptInRequired',
  'ResourceNotFoundException',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KmsException',
]);

/** True for a permanent error about the caller or the setup (access, credentials, a missing bus), not about the entries sent. */
export function isSetupError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.name === 'string' && (SETUP_ERROR_NAMES.has(e.name) || SETUP_ERROR_NAMES.has(e.name.replace(/^.*#/, '')))) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 401 || status === 403;
}

/** True when the service refused a whole request for its content (not for access or throttling). */
export function isValidationError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'ValidationException';
}

/** The error's name as a PutEvents-style error code (`SerializationException`), for the quarantine message. */
export function errorCodeOf(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' && name !== 'Error' ? name : 'RequestRefused';
}

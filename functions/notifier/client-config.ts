/**
 * Time limits for the notifier's AWS clients. Without them the SDK waits up to five minutes
 * (its default socket timeout) for an answer: one PutEvents request to a bus that hangs
 * would eat the whole invocation. With them a hung request fails after `requestTimeout` as
 * a `TimeoutError`, which the notifier retries like any network error, within the time the
 * invocation has left. PutEvents answers in tens of milliseconds; 5 s is generous.
 */
export const REQUEST_TIMEOUTS = {
  /** Milliseconds to establish the TCP connection. */
  connectionTimeout: 2_000,
  /** Milliseconds from sending a request to its complete answer. */
  requestTimeout: 5_000,
  /** Without it the SDK only logs a warning when `requestTimeout` passes. */
  throwOnRequestTimeout: true,
} as const;

/**
 * Settings of the notifier's SDK clients: one attempt per `send`, within REQUEST_TIMEOUTS. The
 * notifier retries failed entries and messages itself, only while the invocation's deadline
 * allows; the SDK's own default of 3 attempts of up to 2 s + 5 s each would run past it.
 */
export const NOTIFIER_CLIENT_CONFIG = { maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS } as const;

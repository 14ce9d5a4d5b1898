/**
 * One line for an error that reaches the CLI's top: what went wrong and, for the causes a
 * newcomer meets (no region, nothing listening at an endpoint, no credentials), what to set.
 * No stack trace reaches a user.
 */

/** The connection errors' codes: nothing listens there, or the name does not resolve. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT']);

interface ErrorFields {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  errors?: unknown;
}

/** The first connection error in an error or its AggregateError's parts (Node's dual-stack connect). */
function connectionError(error: unknown): ErrorFields | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as ErrorFields;
  if (typeof e.code === 'string' && CONNECT_CODES.has(e.code)) return e;
  if (Array.isArray(e.errors)) for (const part of e.errors) if (connectionError(part) !== undefined) return connectionError(part);
  return undefined;
}

const LOCAL_HINT = 'add --local to use a running npm start';

/** The error as one line (no newline), with a hint when the cause is a missing setting. */
export function errorLine(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorFields;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message.split('\n')[0]! : String(error);
  const refused = connectionError(error);
  if (refused !== undefined) {
    const where = typeof refused.address === 'string' ? `${refused.address}${typeof refused.port === 'number' ? `:${refused.port}` : ''}` : typeof refused.hostname === 'string' ? refused.hostname : 'the endpoint';
    return `cannot connect to ${where} (${String(refused.code)}): check the endpoint (--*-endpoint or AWS_ENDPOINT_URL_*), or if it is npm start's, that it still runs (--local finds it)`;
  }
  if (/region is missing/i.test(message)) return `no AWS region: set AWS_REGION (or give --region), or ${LOCAL_HINT}`;
  if (e.name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return `no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or ${LOCAL_HINT}`;
  }
  // Our own one-line errors say what they are; an SDK error's name is its code (ResourceNotFoundException, ...).
  const name = typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'NoLocalPipelineError' ? `${e.name}: ` : '';
  return `${name}${message}`;
}

/**
 * The identity of the local "account": region, account id and dummy credentials that every
 * local client and stand-in shares (DynamoDB Local runs with -sharedDb, so any values work;
 * the SDK only needs some).
 */
export const LOCAL_AWS = {
  region: 'us-east-1',
  account: '000000000000',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export const LOCAL_ACCOUNT = LOCAL_AWS.account;

/** `{ endpoint, region, credentials }` for an SDK client talking to a local endpoint. */
export function localClientConfig(endpoint: string): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  return { endpoint, region: LOCAL_AWS.region, credentials: { ...LOCAL_AWS.credentials } };
}

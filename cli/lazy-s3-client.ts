/**
 * The S3 client a CLI command makes only when it reaches S3 (a claim-checked quarantine
 * message, an on-failure bucket), so a command that never does needs no S3 settings.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { flaggedClientSettings } from './aws-endpoints.js';

/**
 * Returns a function that gives `given`, or makes the client once from `--s3-endpoint` /
 * `AWS_ENDPOINT_URL_S3` and `--region`.
 *
 * @example
 * const s3 = lazyS3Client(options.s3, values, env);
 * new S3OnFailureStore(s3(), bucket);
 */
export function lazyS3Client(
  given: S3Client | undefined,
  flags: Partial<Record<'s3-endpoint' | 'region', string>>,
  env: Record<string, string | undefined>,
): () => S3Client {
  let client = given;
  return () => {
    if (client === undefined) {
      const settings = flaggedClientSettings('s3', flags, env);
      // An S3 stand-in at an endpoint serves path-style addresses; AWS itself, virtual-hosted ones.
      client = new S3Client({ ...settings, ...(settings.endpoint === undefined ? {} : { forcePathStyle: true }) });
    }
    return client;
  };
}

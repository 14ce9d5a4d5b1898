/**
 * Client configuration for the CLI's AWS calls: the endpoint from a flag or from the SDK's
 * service-specific variable (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_EVENTBRIDGE`),
 * so the same command runs against AWS or against the local pipeline. A loopback endpoint
 * without credentials in the environment gets placeholder credentials (the local stand-ins
 * accept any) and region us-east-1.
 */

export interface ClientSettings {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whether an endpoint URL names this machine (false for none or an unparsable one). */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  try {
    return LOOPBACK_HOSTS.has(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/** The services whose endpoint a command takes as `--<service>-endpoint`. */
export type FlaggedService = 'dynamodb' | 'eventbridge' | 'sqs' | 's3';

/**
 * A command's settings for one service: the endpoint from its `--<service>-endpoint` flag,
 * else `AWS_ENDPOINT_URL_<SERVICE>`; the region from `--region`, else the environment.
 */
export function flaggedClientSettings<S extends FlaggedService>(
  service: S,
  flags: Partial<Record<`${S}-endpoint` | 'region', string>>,
  env: Record<string, string | undefined>,
): ClientSettings {
  const endpointFlag = (flags as Partial<Record<string, string>>)[`${service}-endpoint`];
  return clientSettings(endpointFlag ?? env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`], env, flags.region);
}

export function clientSettings(endpoint: string | undefined, env: Record<string, string | undefined>, region: string | undefined): ClientSettings {
  const settings: ClientSettings = {};
  const resolvedRegion = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (resolvedRegion !== undefined && resolvedRegion !== '') settings.region = resolvedRegion;
  if (endpoint === undefined || endpoint === '') return settings;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`endpoint ${endpoint} is not a URL`);
  }
  settings.endpoint = endpoint;
  if (LOOPBACK_HOSTS.has(url.hostname)) {
    settings.region ??= 'us-east-1';
    if (env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined) settings.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  return settings;
}

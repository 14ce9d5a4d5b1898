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

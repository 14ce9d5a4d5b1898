/**
 * A loopback HTTP server speaking the AWS JSON protocols (1.0 and 1.1): `POST /` with
 * `X-Amz-Target: <Service>.<Operation>` and a JSON body; answers JSON, errors as
 * `{"__type": "...", "message": "..."}` with the matching HTTP status. The SDK's signature
 * is not checked (the clients use dummy credentials).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from './free-port.js';

/** An error the service answers with (the SDK throws it as an exception named `type`). */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** For awsQueryCompatible services (SQS): the query-protocol code and fault, `Code;Sender`. */
    readonly queryError?: string,
  ) {
    super(message);
  }
}

export type Operation = (input: Record<string, unknown>, request: IncomingMessage) => unknown | Promise<unknown>;

export interface AwsJsonServerOptions {
  /** `X-Amz-Target` prefix, e.g. `AWSEvents` or `AmazonSQS`. */
  readonly targetPrefix: string;
  /** `1.0` or `1.1`: the response content type. */
  readonly jsonVersion: '1.0' | '1.1';
  readonly operations: Record<string, Operation>;
  /** Largest request body accepted. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Error type for an operation this server does not implement. */
  readonly unknownOperationType?: string;
}

export interface RunningServer {
  readonly endpoint: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, contentType: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID(), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AwsServiceError('RequestEntityTooLargeException', `request body over ${limit} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the server on 127.0.0.1 (port 0 unless given). */
export async function startAwsJsonServer(opts: AwsJsonServerOptions, port = 0): Promise<RunningServer> {
  const contentType = `application/x-amz-json-${opts.jsonVersion}`;
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== 'POST') throw new AwsServiceError('UnknownOperationException', `${req.method} is not supported; the AWS JSON protocol uses POST /`, 404);
        const target = req.headers['x-amz-target'];
        const [prefix, name] = typeof target === 'string' ? target.split('.') : [];
        const operation = prefix === opts.targetPrefix && name !== undefined ? opts.operations[name] : undefined;
        if (operation === undefined) {
          throw new AwsServiceError(opts.unknownOperationType ?? 'UnknownOperationException', `operation ${String(target)} is not supported by this local stand-in`);
        }
        const text = await readBody(req, opts.maxBodyBytes ?? 1024 * 1024);
        let input: unknown;
        try {
          input = text === '' ? {} : JSON.parse(text);
        } catch {
          throw new AwsServiceError('SerializationException', 'the request body is not valid JSON');
        }
        if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new AwsServiceError('SerializationException', 'the request body must be a JSON object');
        const output = await operation(input as Record<string, unknown>, req);
        send(res, 200, output ?? {}, contentType);
      } catch (error) {
        if (error instanceof AwsServiceError) {
          send(res, error.status, { __type: error.type, message: error.message }, contentType, {
            'x-amzn-errortype': error.type,
            ...(error.queryError === undefined ? {} : { 'x-amzn-query-error': error.queryError }),
          });
        } else {
          send(res, 500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) }, contentType, {
            'x-amzn-errortype': 'InternalFailure',
          });
        }
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK}:${actual}`,
    port: actual,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

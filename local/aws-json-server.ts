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

/**
 * A fault injected into one request (fault-injection tests and the soak; never set by `npm start`):
 * - `error`: answer this service error instead of running the operation;
 * - `drop`: close the connection without an answer (the client sees a hang-up); with
 *   `after`, once the operation has run (its effect stays: the client retries a request that succeeded);
 * - `hang`: never answer (the connection stays open until the client gives up or the server
 *   closes); with `after`, once the operation has run;
 * - `delay`: answer normally, `ms` later.
 */
export type RequestFault =
  | { readonly kind: 'error'; readonly type: string; readonly message?: string; readonly status?: number; readonly queryError?: string }
  | { readonly kind: 'drop'; readonly after?: boolean }
  | { readonly kind: 'hang'; readonly after?: boolean }
  | { readonly kind: 'delay'; readonly ms: number };

/** Decides, per request, whether to inject a fault (undefined: none). */
export type RequestFaults = (operation: string, input: Record<string, unknown>) => RequestFault | undefined;

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
  /** Consulted for every request, after its body is read and before its operation runs. */
  readonly faults?: RequestFaults;
}

export interface RunningServer {
  readonly endpoint: string;
  readonly port: number;
  readonly server: Server;
  /** Requests being handled now (read, run, or delayed; a dropped or hung one is not). */
  pending(): number;
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

/** A dropped request: the socket is destroyed. A hung one: nothing is ever written (close() ends it). */
function withhold(req: IncomingMessage, how: 'drop' | 'hang'): void {
  if (how === 'drop') req.socket.destroy();
}

/** Starts the server on 127.0.0.1 (port 0 unless given). */
export async function startAwsJsonServer(opts: AwsJsonServerOptions, port = 0): Promise<RunningServer> {
  const contentType = `application/x-amz-json-${opts.jsonVersion}`;
  let pending = 0;
  const server = createServer((req, res) => {
    pending++;
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
        const fault = opts.faults?.(name!, input as Record<string, unknown>);
        if (fault?.kind === 'error') throw new AwsServiceError(fault.type, fault.message ?? `injected fault: ${fault.type}`, fault.status ?? 400, fault.queryError);
        if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
        const noAnswer = fault?.kind === 'drop' || fault?.kind === 'hang';
        if (noAnswer && !fault.after) return withhold(req, fault.kind);
        const output = await operation(input as Record<string, unknown>, req);
        if (noAnswer) return withhold(req, fault.kind);
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
      } finally {
        pending--;
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
    pending: () => pending,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

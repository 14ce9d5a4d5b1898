/**
 * A free TCP port on the loopback interface, for servers that cannot bind port 0 themselves
 * (DynamoDB Local takes a fixed `-port`). The port is free when this returns; a caller that
 * loses the race to another process should ask again.
 */
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('no port assigned')) : resolve(port)));
    });
  });
}

/** Loopback ports for the local stack. Everything we start binds to 127.0.0.1 only. */
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). Another process can still
 * take it before the caller binds, so starters report a bind failure clearly rather than assume.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port the OS assigned'));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/**
 * Fails fast with a readable message when a port is taken, instead of waiting for a server to
 * start, hit EADDRINUSE deep in its startup and exit with a log to dig through.
 */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`${what}: port ${LOOPBACK}:${port} is already in use by another process`)
          : err,
      );
    });
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  try {
    await assertPortFree(port, 'probe');
    return true;
  } catch {
    return false;
  }
}

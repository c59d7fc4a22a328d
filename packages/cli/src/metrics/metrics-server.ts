import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runtimeError } from '@mwan/core';
import type { ListenAddress } from './listen-address.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  /** The address it listens on (the port the kernel chose for port 0). */
  address: ListenAddress;
  close(): Promise<void>;
}

/** `GET /metrics` answers with `render()`; everything else is 404. One render at a time. */
export async function startMetricsServer(listen: ListenAddress, render: () => Promise<string>): Promise<MetricsServer> {
  let pending: Promise<string> | undefined;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('mwan: only GET /metrics is served\n');
      return;
    }
    // Scrapes that arrive while one is being read share its answer instead of each reading the kernel.
    pending ??= render().finally(() => {
      pending = undefined;
    });
    pending.then(
      (text) => response.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`mwan: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(runtimeError(`--metrics: cannot listen on ${listen.host}:${listen.port}: ${error.message}`, error)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  return {
    address: { host: info.address, port: info.port },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import type { ReadinessState } from '../health/readiness.ts';

export interface StageEndpoints {
  registry: Registry;
  /** Liveness: the process and its consumer loop. */
  live(): { alive: boolean; reason?: string };
  readiness(): ReadinessState;
}

/**
 * A stage's one HTTP port: `/metrics` (Prometheus text format), `/healthz`
 * (liveness: 200 while the consumer loop is alive) and `/readyz` (200 when
 * the stage can do its work, else 503 with the reasons).
 */
export class StageServer {
  private readonly server: Server;
  private readonly endpoints: StageEndpoints;
  private readonly logger: Logger;

  constructor(endpoints: StageEndpoints, logger: Logger) {
    this.endpoints = endpoints;
    this.logger = logger;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error({ err: error, path: request.url }, 'HTTP request failed');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('internal error\n');
      });
    });
    // Prometheus keeps its connections open between scrapes.
    this.server.keepAliveTimeout = 65_000;
  }

  /** Listens on host:port (port 0 picks a free one); resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://stage').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/metrics': {
        const body = await this.endpoints.registry.metrics();
        response.writeHead(200, { 'content-type': this.endpoints.registry.contentType }).end(body);
        return;
      }
      case '/healthz': {
        const { alive, reason } = this.endpoints.live();
        json(response, alive ? 200 : 503, alive ? { status: 'alive' } : { status: 'dead', reason });
        return;
      }
      case '/readyz': {
        const { ready, reasons } = this.endpoints.readiness();
        json(response, ready ? 200 : 503, ready ? { status: 'ready' } : { status: 'not ready', reasons });
        return;
      }
      default:
        json(response, 404, { error: `no ${path}; try /metrics, /healthz or /readyz` });
    }
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

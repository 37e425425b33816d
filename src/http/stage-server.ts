import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import type { ReadinessState } from '../health/readiness.ts';

/** Answers every request to one path (any method); the server answers /metrics, /healthz and /readyz itself. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface StageEndpoints {
  registry: Registry;
  /** Liveness: the process and its consumer loop. */
  live(): { alive: boolean; reason?: string };
  readiness(): ReadinessState;
  /** More paths, by path (the collector's /events). */
  routes?: Readonly<Record<string, RouteHandler>>;
}

/**
 * A stage's one HTTP port: `/metrics` (Prometheus text format), `/healthz`
 * (liveness: 200 while the consumer loop is alive) and `/readyz` (200 when
 * the stage can do its work, else 503 with the reasons); the collector's
 * `/events` beside them.
 */
/** What a port open to the world bounds: slow clients and how many at once. */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

export class StageServer {
  private readonly server: Server;
  private readonly endpoints: StageEndpoints;
  private readonly logger: Logger;
  private draining = false;

  constructor(endpoints: StageEndpoints, logger: Logger, limits?: ConnectionLimits) {
    this.endpoints = endpoints;
    this.logger = logger;
    this.server = createServer((request, response) => {
      // Once draining, a kept-alive connection closes after its answer.
      if (this.draining) response.setHeader('connection', 'close');
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error({ err: error, path: request.url }, 'HTTP request failed');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('internal error\n');
      });
    });
    // Prometheus keeps its connections open between scrapes.
    this.server.keepAliveTimeout = 65_000;
    if (limits !== undefined) {
      this.server.headersTimeout = limits.headersTimeoutMs;
      this.server.requestTimeout = limits.requestTimeoutMs;
      this.server.maxConnections = limits.maxConnections;
    }
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

  /**
   * Stops taking connections and lets the requests in flight finish (each
   * connection closes after its answer), for at most `graceMs`; then closes
   * whatever is left.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
    this.server.closeIdleConnections();
    const cutOff = setTimeout(() => this.server.closeAllConnections(), graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(cutOff);
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://stage').pathname;
    const route = this.endpoints.routes?.[path];
    if (route !== undefined) {
      await route(request, response);
      return;
    }
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
        json(response, 404, {
          error: `no ${path}; try ${[...Object.keys(this.endpoints.routes ?? {}), '/metrics', '/healthz', '/readyz'].join(', ')}`,
        });
    }
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TlsFiles } from '../config/endpoints.ts';
import { tlsMaterial } from '../config/tls-files.ts';

/**
 * The registry's HTTP(S) connections, shared by the registry library and
 * kelt's own requests: a private CA and a client certificate (mTLS) apply to
 * both. Node's fetch cannot take them without a second HTTP client, so kelt's
 * few GETs go through node:https with the same agent.
 */
export function registryAgent(url: string, tls: TlsFiles | undefined): HttpAgent | HttpsAgent | undefined {
  if (new URL(url).protocol !== 'https:') return undefined;
  return new HttpsAgent({ keepAlive: true, rejectUnauthorized: true, ...tlsMaterial(tls) });
}

export interface RegistryResponse {
  status: number;
  body: string;
}

/** GET `url` with `headers` through `agent`; rejects on a network error or when no answer came within `timeoutMs`. */
export function registryGet(
  url: URL,
  headers: Record<string, string>,
  agent: HttpAgent | HttpsAgent | undefined,
  timeoutMs: number,
): Promise<RegistryResponse> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'GET', headers: { accept: 'application/json', ...headers }, ...(agent === undefined ? {} : { agent }) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`GET ${url.pathname} did not answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { createMySqlPool, type MySqlPool } from '../../src/mysql/pool.ts';
import type { Endpoints } from '../../src/config/endpoints.ts';

/** The real stack's endpoints, as the integration setup found or started them. */
export function endpoints(): Endpoints {
  return inject('endpoints');
}

/** A name no other test run uses, for topics, groups, subjects and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  pool: MySqlPool;
  drop(): Promise<void>;
}

/** A fresh database on the stack's MySQL server, dropped by `drop()`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('kelt_test');
  const admin = createMySqlPool(endpoints().mysqlUrl!, 1);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const url = new URL(endpoints().mysqlUrl!);
  url.pathname = `/${name}`;
  const pool = createMySqlPool(url.toString());
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.query(`DROP DATABASE \`${name}\``);
      await pool.end();
    },
  };
}

/** A free TCP port on loopback (taken, then released for the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Registers a JSON Schema (the registry's REST API: kelt's client registers Avro only) and returns its id. */
export async function registerJsonSchema(registryUrl: string, subject: string): Promise<number> {
  const response = await fetch(new URL(`subjects/${subject}/versions`, registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`), {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify({ type: 'object', properties: { id: { type: 'string' } } }) }),
  });
  if (response.status !== 200) throw new Error(`registering a JSON Schema answered HTTP ${response.status}`);
  return ((await response.json()) as { id: number }).id;
}

import { createServer, connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMySqlPool, STRICT_SQL_MODE } from '../../src/mysql/pool.ts';
import { createTestDatabase, type TestDatabase } from '../support/stack.ts';

/** A TCP proxy to the server that can go silent: bytes stop flowing both ways, the sockets stay open, as on a blackholed network. */
async function silenceableProxy(target: URL) {
  let silent = false;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connectTcp(Number(target.port), target.hostname);
    sockets.push(client, upstream);
    client.on('data', (bytes) => void (silent || upstream.write(bytes)));
    upstream.on('data', (bytes) => void (silent || client.write(bytes)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url(of: string) {
      const url = new URL(of);
      url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      return url.toString();
    },
    silence: (on: boolean) => void (silent = on),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Every connection kelt opens is strict whatever the server's default, so a
 * value a column cannot hold is refused, never clamped or truncated; the
 * server here is set to the lenient mode for the test's own session only.
 */
describe('kelt’s MySQL sessions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE TABLE narrow (id INT PRIMARY KEY, code VARCHAR(3), small TINYINT)');
  });
  afterAll(async () => db?.drop());

  it('refuses a value too long or too large, where a lenient session would store it changed', async () => {
    const [[{ mode }]] = (await db.pool.query('SELECT @@SESSION.sql_mode AS mode')) as unknown as [[{ mode: string }]];
    expect(mode.split(',').sort()).toEqual(STRICT_SQL_MODE.split(',').sort());
    await expect(db.pool.query("INSERT INTO narrow (id, code) VALUES (1, 'ABCD')")).rejects.toMatchObject({ code: 'ER_DATA_TOO_LONG' });
    await expect(db.pool.query('INSERT INTO narrow (id, small) VALUES (2, 1000)')).rejects.toMatchObject({ code: 'ER_WARN_DATA_OUT_OF_RANGE' });

    const lenient = await db.pool.getConnection();
    try {
      await lenient.query("SET SESSION sql_mode = ''");
      await lenient.query("INSERT INTO narrow (id, code, small) VALUES (3, 'ABCD', 1000)");
    } finally {
      lenient.release();
    }
    const [rows] = await db.pool.query('SELECT code, small FROM narrow WHERE id = 3');
    expect(rows).toEqual([{ code: 'ABC', small: 127 }]);
  });

  it('fails a statement that gets no answer within the query timeout, on a silent network or a slow server, and goes on with a new connection', async () => {
    const proxy = await silenceableProxy(new URL(db.url));
    const pool = createMySqlPool(proxy.url(db.url), 2, undefined, 1_000);
    try {
      const threadId = async () => ((await pool.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]])[0][0].id;
      const first = await threadId();
      proxy.silence(true);
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
      proxy.silence(false);
      const second = await threadId();
      expect(second).not.toBe(first);
      await expect(pool.query('SELECT SLEEP(3)')).rejects.toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
      expect(await threadId()).not.toBe(second);
    } finally {
      await pool.end();
      await proxy.close();
    }
  });
});

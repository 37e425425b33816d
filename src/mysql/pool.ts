import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';

export type MySqlPool = mysql.Pool;

/**
 * A mysql2 connection pool for a mysql:// URL. Times are UTC and 64-bit
 * integers come back as strings only when they do not fit a JS number.
 */
export function createMySqlPool(url: string, connectionLimit = 8, tls?: { caFile?: string }): MySqlPool {
  const parsed = new URL(url);
  const pool = mysql.createPool({
    host: parsed.hostname,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    connectionLimit,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4_bin',
    enableKeepAlive: true,
    ...(tls === undefined
      ? {}
      : { ssl: { rejectUnauthorized: true, ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile, 'utf8') }) } }),
  });
  // Stages upsert different partitions' rows into one table at once; under
  // REPEATABLE READ the gap locks of concurrent multi-row upserts deadlock.
  // Each batch is keyed by primary key, so READ COMMITTED loses nothing.
  pool.pool.on('connection', (connection) => {
    connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  return pool;
}

import mysql from 'mysql2/promise';

export type MySqlPool = mysql.Pool;

/**
 * A mysql2 connection pool for a mysql:// URL. Times are UTC and 64-bit
 * integers come back as strings only when they do not fit a JS number.
 */
export function createMySqlPool(url: string, connectionLimit = 8): MySqlPool {
  const parsed = new URL(url);
  return mysql.createPool({
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
  });
}

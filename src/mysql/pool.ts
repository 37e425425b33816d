import mysql from 'mysql2/promise';
import type { TlsFiles } from '../config/endpoints.ts';
import { tlsMaterial } from '../config/tls-files.ts';

export type MySqlPool = mysql.Pool;
export type MySqlConnection = mysql.PoolConnection;

/** The modes MySQL 8 sets by default for strictness, on MySQL and MariaDB alike. */
export const STRICT_SQL_MODE = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** What mysql2 enqueues on a connection for a statement (its Query and Execute commands). */
interface StatementCommand {
  timeout?: number;
  onResult?: (error: (Error & { code?: string }) | null, ...results: unknown[]) => void;
}

/**
 * A mysql2 connection pool for a mysql:// URL. Times are UTC and 64-bit
 * integers come back as strings only when they do not fit a JS number.
 * With `queryTimeoutMs`, a statement without an answer by then fails
 * (PROTOCOL_SEQUENCE_TIMEOUT, transient) and its connection is destroyed.
 */
export function createMySqlPool(url: string, connectionLimit = 8, tls?: TlsFiles, queryTimeoutMs?: number): MySqlPool {
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
      : {
          // With a client certificate when given, for users the server requires one of (REQUIRE X509).
          ssl: { rejectUnauthorized: true, ...tlsMaterial(tls) },
        }),
  });
  pool.pool.on('connection', (connection) => {
    // A connection whose session could not be set up is closed: the
    // statement waiting for it fails as a lost connection, which is retried.
    const orClose = (error: Error | null) => {
      if (error !== null) connection.destroy();
    };
    // Stages upsert different partitions' rows into one table at once; under
    // REPEATABLE READ the gap locks of concurrent multi-row upserts deadlock.
    // Each batch is keyed by primary key, so READ COMMITTED loses nothing.
    connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', orClose);
    // Whatever the server's default: a value a column cannot hold is an
    // error (its record is dead-lettered), never clamped, truncated or zeroed.
    connection.query(`SET SESSION sql_mode = '${STRICT_SQL_MODE}'`, orClose);
    if (queryTimeoutMs !== undefined) boundStatements(connection, queryTimeoutMs);
  });
  return pool;
}

/**
 * Gives every statement on the connection a time limit. mysql2 has only a
 * per-statement `timeout` option, and on expiry fails the statement but
 * leaves it queued on its connection, so whatever runs there next waits
 * behind it: a connection the network blackholed (no reset, no answer: the
 * kernel would give up on it only after its retransmissions, ~15 minutes)
 * would hold a stage's batch that long. Every statement kelt sends passes
 * through the connection's `addCommand` (pool.query too), so the limit is
 * set there, and a statement that runs out destroys its connection: the
 * batch is retried on a new one.
 */
function boundStatements(connection: object, timeoutMs: number): void {
  const target = connection as { addCommand(command: StatementCommand): unknown; destroy(): void };
  const addCommand = target.addCommand.bind(target);
  target.addCommand = (command) => {
    if ('sql' in command && command.timeout === undefined && command.onResult !== undefined) {
      const onResult = command.onResult;
      command.timeout = timeoutMs;
      command.onResult = (error, ...results) => {
        if (error?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') target.destroy();
        onResult(error, ...results);
      };
    }
    return addCommand(command);
  };
}

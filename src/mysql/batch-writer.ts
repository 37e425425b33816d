import type { PoolConnection } from 'mysql2/promise';
import { KeltError } from '../errors.ts';
import { classifyMySqlError, mayBeRowRejection } from './errors.ts';
import type { MySqlPool } from './pool.ts';

export interface Rejected<T> {
  item: T;
  error: string;
}

/**
 * Writes a batch and then its position (`finish`, told which items were
 * rejected) in one MySQL transaction.
 * When MySQL rejects a row (data too long, NULL in a NOT NULL column…), or
 * fails the statement with an error that is not about its own state (see
 * mayBeRowRejection), the transaction is rolled back and the batch written
 * again in a new one, each item under its own savepoint, so that only the
 * items MySQL refuses are left out (and returned, to be dead-lettered) and
 * the position still commits with the rest: one bad row never stops the
 * partition. A failure of the server's state (away, deadlocked, read-only,
 * full, not migrated) is thrown as a TransientError for the stage to retry;
 * kelt's own errors (a stale batch, a flood of dead letters) pass through.
 */
export async function writeBatch<T>(
  pool: MySqlPool,
  items: readonly T[],
  writeItems: (connection: PoolConnection, items: readonly T[]) => Promise<void>,
  finish: (connection: PoolConnection, rejected: readonly Rejected<T>[]) => Promise<void>,
): Promise<Rejected<T>[]> {
  let connection: PoolConnection;
  try {
    connection = await pool.getConnection();
  } catch (error) {
    throw classifyMySqlError(error, 'connecting to MySQL');
  }
  try {
    try {
      await inTransaction(connection, async () => {
        await writeItems(connection, items);
        await finish(connection, []);
      });
      return [];
    } catch (error) {
      if (error instanceof KeltError || !mayBeRowRejection(error)) throw error;
    }
    const rejected: Rejected<T>[] = [];
    await inTransaction(connection, async () => {
      for (const item of items) {
        await connection.query('SAVEPOINT kelt_item');
        try {
          await writeItems(connection, [item]);
          await connection.query('RELEASE SAVEPOINT kelt_item');
        } catch (error) {
          if (!mayBeRowRejection(error)) throw error;
          await connection.query('ROLLBACK TO SAVEPOINT kelt_item');
          rejected.push({ item, error: (error as Error).message });
        }
      }
      await finish(connection, rejected);
    });
    return rejected;
  } catch (error) {
    if (error instanceof KeltError) throw error;
    throw classifyMySqlError(error, 'writing a batch');
  } finally {
    connection.release();
  }
}

async function inTransaction(connection: PoolConnection, work: () => Promise<void>): Promise<void> {
  await connection.beginTransaction();
  try {
    await work();
    await connection.commit();
  } catch (error) {
    await connection.rollback().catch((rollbackError: unknown) => {
      // The connection is gone; the original error says why, and the pool drops the connection.
      (error as Error & { rollbackError?: unknown }).rollbackError = rollbackError;
    });
    throw error;
  }
}

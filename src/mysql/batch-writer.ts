import type { PoolConnection } from 'mysql2/promise';
import { classifyMySqlError, isRowRejection } from './errors.ts';
import type { MySqlPool } from './pool.ts';

export interface Rejected<T> {
  item: T;
  error: string;
}

/**
 * Writes a batch in one MySQL transaction. When MySQL rejects a row (data
 * too long, NULL in a NOT NULL column…), the batch is rolled back and written
 * again one item per transaction, so that only the rejected items are
 * returned (to be dead-lettered) and the rest are written. Any other failure
 * is thrown as a TransientError for the stage to retry.
 */
export async function writeBatch<T>(
  pool: MySqlPool,
  items: readonly T[],
  write: (connection: PoolConnection, items: readonly T[]) => Promise<void>,
): Promise<Rejected<T>[]> {
  let connection: PoolConnection;
  try {
    connection = await pool.getConnection();
  } catch (error) {
    throw classifyMySqlError(error, 'connecting to MySQL');
  }
  try {
    try {
      await inTransaction(connection, () => write(connection, items));
      return [];
    } catch (error) {
      if (!isRowRejection(error) || items.length === 1) {
        if (isRowRejection(error)) return [{ item: items[0]!, error: (error as Error).message }];
        throw classifyMySqlError(error, 'writing a batch');
      }
    }
    const rejected: Rejected<T>[] = [];
    for (const item of items) {
      try {
        await inTransaction(connection, () => write(connection, [item]));
      } catch (error) {
        if (!isRowRejection(error)) throw classifyMySqlError(error, 'writing a record');
        rejected.push({ item, error: (error as Error).message });
      }
    }
    return rejected;
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

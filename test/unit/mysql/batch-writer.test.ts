import { describe, expect, it } from 'vitest';
import { DeadLetterFloodError, FatalError, TransientError } from '../../../src/errors.ts';
import { RowRejectionError } from '../../../src/mysql/errors.ts';
import { writeBatch } from '../../../src/mysql/batch-writer.ts';
import { fakePool } from '../../support/fake-mysql.ts';

const mysqlError = (code: string) => Object.assign(new Error(`${code} for this row`), { code });

describe('writeBatch', () => {
  it('writes the batch again row by row when MySQL refuses it for a reason it does not say is its own state, and leaves out only the refused row', async () => {
    const { pool, committed, connection } = fakePool();
    const rejected = await writeBatch(
      pool,
      [1, 2, 3],
      async (_connection, items) => {
        if (items.includes(2)) throw mysqlError('ER_INVALID_JSON_TEXT_IN_PARAM');
        await connection.query(`insert ${items.join(',')}`);
      },
      async (_connection, refused) => void (await connection.query(`position, ${refused.length} refused`)),
    );
    expect(rejected.map(({ item }) => item)).toEqual([2]);
    expect(rejected[0]!.error).toBe('ER_INVALID_JSON_TEXT_IN_PARAM for this row');
    expect(committed).toEqual(['insert 1', 'insert 3', 'position, 1 refused']);
  });

  it('retries a batch as it is when the server is the problem', async () => {
    const { pool } = fakePool();
    const failing = writeBatch(
      pool,
      [1, 2],
      async () => {
        throw mysqlError('ER_LOCK_DEADLOCK');
      },
      async () => undefined,
    );
    await expect(failing).rejects.toBeInstanceOf(TransientError);
  });

  it('splits a batch that kelt itself refused before SQL (a sum out of range) like one MySQL refused', async () => {
    const { pool, committed, connection } = fakePool();
    const rejected = await writeBatch(
      pool,
      ['a', 'huge', 'b'],
      async (_connection, items) => {
        if (items.includes('huge')) throw new RowRejectionError('agg.total: the sum of one group’s values is Infinity');
        await connection.query(`insert ${items.join(',')}`);
      },
      async () => undefined,
    );
    expect(rejected.map(({ item }) => item)).toEqual(['huge']);
    expect(committed).toEqual(['insert a', 'insert b']);
  });

  it('stops on refused access (fatal), and lets kelt’s own errors through as they are, writing nothing', async () => {
    for (const [thrown, expected] of [
      [mysqlError('ER_TABLEACCESS_DENIED_ERROR'), FatalError],
      [new DeadLetterFloodError('most of the window would be dead-lettered'), DeadLetterFloodError],
    ] as const) {
      const { pool, committed } = fakePool();
      const failing = writeBatch(
        pool,
        [1, 2],
        async () => undefined,
        async () => {
          throw thrown;
        },
      );
      await expect(failing).rejects.toBeInstanceOf(expected);
      expect(committed).toEqual([]);
    }
  });
});

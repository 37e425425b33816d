import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRICT_SQL_MODE } from '../../src/mysql/pool.ts';
import { createTestDatabase, type TestDatabase } from '../support/stack.ts';

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
});

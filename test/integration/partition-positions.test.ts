import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaleBatchError } from '../../src/errors.ts';
import { DeadLetterLog, deadLetterLogSql } from '../../src/mysql/dead-letter-log.ts';
import { offsetsTableSql } from '../../src/mysql/offset-store.ts';
import { PartitionPositions } from '../../src/mysql/partition-positions.ts';
import { createTestDatabase, type TestDatabase } from '../support/stack.ts';

/**
 * The MySQL position as a fence between two members that both believe they
 * own a partition (a rebalance one of them has not heard of), on the real
 * database: the one whose view is stale rolls back, and reads afresh.
 */
describe('PartitionPositions on MySQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(offsetsTableSql);
    await db.pool.query(deadLetterLogSql);
    await db.pool.query('CREATE TABLE rows_written (id INT PRIMARY KEY)');
  });
  afterAll(async () => db?.drop());

  async function batch(positions: PartitionPositions, ids: number[], to: string): Promise<void> {
    const connection = await db.pool.getConnection();
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO rows_written (id) VALUES ? ON DUPLICATE KEY UPDATE id = id', [ids.map((id) => [id])]);
      await positions.advance(connection, 0, to);
      await connection.commit();
      positions.advanced(0, to);
    } catch (error) {
      await connection.rollback();
      throw error;
    } finally {
      connection.release();
    }
  }

  it('lets the member that read the current position write, and rolls the stale one back', async () => {
    const zombie = new PartitionPositions(db.pool, 'g', 't');
    const owner = new PartitionPositions(db.pool, 'g', 't');
    await zombie.assigned([0]);
    await batch(zombie, [1, 2], '2');
    await owner.assigned([0]);
    expect(await owner.of(0)).toBe(2n);
    await batch(owner, [3, 4], '4');
    // The zombie still believes the partition is at 2: its batch must not land.
    await expect(batch(zombie, [3, 4, 5], '5')).rejects.toBeInstanceOf(StaleBatchError);
    // It reads the position again before its next batch.
    expect(await zombie.of(0)).toBe(4n);
    const [rows] = await db.pool.query('SELECT COUNT(*) AS n FROM rows_written');
    expect((rows as Array<{ n: number }>)[0]!.n).toBe(4);
    // Two members starting on a partition with no position yet: one wins.
    const first = new PartitionPositions(db.pool, 'g', 'u');
    const second = new PartitionPositions(db.pool, 'g', 'u');
    await Promise.all([first.assigned([0]), second.assigned([0])]);
    await batch(first, [10], '1');
    await expect(batch(second, [11], '1')).rejects.toBeInstanceOf(StaleBatchError);
  });

  it('keeps a partition’s dead letters until a later batch is past them', async () => {
    const log = new DeadLetterLog(db.pool, 'g', 't');
    await log.record(db.pool, 0, [{ offset: '7', reason: 'row_rejected', error: 'too long' }], '5');
    expect([...(await log.between(0, '5', '10')).keys()]).toEqual(['7']);
    await log.record(db.pool, 0, [], '8');
    expect((await log.between(0, '0', '10')).size).toBe(0);
  });
});

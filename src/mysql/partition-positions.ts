import type { ResultSetHeader } from 'mysql2/promise';
import type { Queryable } from './queryable.ts';
import { StaleBatchError } from '../errors.ts';
import { classifyMySqlError } from './errors.ts';
import type { MySqlPool } from './pool.ts';

/**
 * Where a MySQL stage's copy of each input partition stands: the next offset
 * whose rows are not yet written, kept in `kelt_offsets` and moved in the
 * same transaction as the rows. Records below it are written already.
 *
 * It is also the fence between members: a member reads the position when it
 * gets the partition, and a batch moves it only from where this member last
 * saw it (compare and set). When another member has moved it meanwhile (a
 * rebalance this member has not heard of yet), the batch's transaction fails
 * with StaleBatchError and rolls back, and the position is read afresh
 * before the partition's next batch.
 */
export class PartitionPositions {
  private readonly pool: Pick<MySqlPool, 'query'>;
  private readonly groupId: string;
  private readonly topic: string;
  /** Per partition: the stored position this member last saw (null: no row yet). Absent: read it first. */
  private readonly seen = new Map<number, bigint | null>();

  constructor(pool: Pick<MySqlPool, 'query'>, groupId: string, topic: string) {
    this.pool = pool;
    this.groupId = groupId;
    this.topic = topic;
  }

  /** Reads the positions of a new assignment (forgetting the previous one's). */
  async assigned(partitions: readonly number[]): Promise<void> {
    const stored = await this.read(partitions);
    this.seen.clear();
    for (const partition of partitions) this.seen.set(partition, stored.get(partition) ?? null);
  }

  /** The partition's position; undefined when nothing was ever written for it. */
  async of(partition: number): Promise<bigint | undefined> {
    if (!this.seen.has(partition)) this.seen.set(partition, (await this.read([partition])).get(partition) ?? null);
    return this.seen.get(partition) ?? undefined;
  }

  /**
   * In the batch's transaction: moves the partition's position to `to`, if it
   * is still where `of` said. Call `advanced` once the transaction commits.
   */
  async advance(connection: Queryable, partition: number, to: string): Promise<void> {
    const from = this.seen.get(partition);
    const stale = () => {
      this.seen.delete(partition);
      return new StaleBatchError(`${this.topic}[${partition}]'s position in MySQL moved under this member`);
    };
    if (from === undefined) throw stale();
    const [result] =
      from === null
        ? await connection.query(
            `INSERT IGNORE INTO kelt_offsets (group_id, topic, partition_id, next_offset, updated_at)
             VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))`,
            [this.groupId, this.topic, partition, to],
          )
        : await connection.query(
            `UPDATE kelt_offsets SET next_offset = ?, updated_at = UTC_TIMESTAMP(3)
             WHERE group_id = ? AND topic = ? AND partition_id = ? AND next_offset = ?`,
            [to, this.groupId, this.topic, partition, from.toString()],
          );
    if ((result as ResultSetHeader).affectedRows !== 1) throw stale();
  }

  /** The transaction that advanced the partition to `to` committed. */
  advanced(partition: number, to: string): void {
    this.seen.set(partition, BigInt(to));
  }

  private async read(partitions: readonly number[]): Promise<Map<number, bigint>> {
    if (partitions.length === 0) return new Map();
    try {
      const [rows] = await this.pool.query(
        'SELECT partition_id, next_offset FROM kelt_offsets WHERE group_id = ? AND topic = ? AND partition_id IN (?)',
        [this.groupId, this.topic, partitions],
      );
      return new Map(
        (rows as Array<{ partition_id: number; next_offset: number | string }>).map((row) => [row.partition_id, BigInt(row.next_offset)]),
      );
    } catch (error) {
      throw classifyMySqlError(error, 'reading the partitions’ positions');
    }
  }
}

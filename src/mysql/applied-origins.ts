import { originKey } from '../records/record-origin.ts';
import { classifyMySqlError } from './errors.ts';
import type { MySqlPool } from './pool.ts';
import type { Queryable } from './queryable.ts';

/**
 * kelt_applied_origins: per input partition of a stage that counts what it
 * reads (transform), the next origin offset not yet applied from each origin
 * partition (see stages/record-origin.ts). Written in the transaction that
 * moves the partition's position, so it is exactly as far as the rows and
 * aggregates; a replay deletes the group's rows with the aggregates it rebuilds.
 */
/** Per origin (`originKey`), the next origin offset not yet applied. */
type AppliedOrigins = Map<string, bigint>;

export const appliedOriginsTableSql = `CREATE TABLE IF NOT EXISTS kelt_applied_origins (
  group_id VARCHAR(255) NOT NULL,
  topic VARCHAR(255) NOT NULL,
  partition_id INT NOT NULL,
  origin_topic VARCHAR(32) NOT NULL DEFAULT '',
  origin_partition INT NOT NULL,
  next_origin_offset BIGINT NOT NULL,
  PRIMARY KEY (group_id, topic, partition_id, origin_topic, origin_partition)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/**
 * A table created before origins knew their topic gains the column (its
 * rows become the origins of records without a topic id, which is what they were).
 */
export async function evolveAppliedOriginsTable(pool: Pick<MySqlPool, 'query'>): Promise<void> {
  const [columns] = await pool.query(
    "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kelt_applied_origins' AND COLUMN_NAME = 'origin_topic'",
  );
  if ((columns as unknown[]).length > 0) return;
  await pool.query(
    "ALTER TABLE kelt_applied_origins ADD COLUMN origin_topic VARCHAR(32) NOT NULL DEFAULT '' AFTER partition_id, DROP PRIMARY KEY, ADD PRIMARY KEY (group_id, topic, partition_id, origin_topic, origin_partition)",
  );
}

/**
 * A group's applied origins per input partition, read when it is assigned
 * (or first needed) and kept in step with the transactions that move them.
 * A member writes a partition's origins only inside the transaction that
 * moves its position by compare and set, so no other member's write can
 * interleave with one this member commits.
 */
export class AppliedOriginStore {
  private readonly pool: Pick<MySqlPool, 'query'>;
  private readonly groupId: string;
  private readonly topic: string;
  private readonly known = new Map<number, AppliedOrigins>();

  constructor(pool: Pick<MySqlPool, 'query'>, groupId: string, topic: string) {
    this.pool = pool;
    this.groupId = groupId;
    this.topic = topic;
  }

  /** Partitions whose origins a commit moved while `assigned` was reading. */
  private movedWhileReading: Set<number> | undefined;

  /**
   * Reads the origins of a new assignment (forgetting the previous one's). A
   * batch of the previous assignment may still commit meanwhile (kafkajs
   * lets it finish): what it moved is newer than what the read found.
   */
  async assigned(partitions: readonly number[]): Promise<void> {
    const moved = new Set<number>();
    this.movedWhileReading = moved;
    let stored: Map<number, AppliedOrigins>;
    try {
      stored = await this.read(partitions);
    } finally {
      if (this.movedWhileReading === moved) this.movedWhileReading = undefined;
    }
    const kept = new Map([...this.known].filter(([partition]) => moved.has(partition) && partitions.includes(partition)));
    this.known.clear();
    for (const partition of partitions) this.known.set(partition, kept.get(partition) ?? stored.get(partition) ?? new Map());
  }

  async of(partition: number): Promise<ReadonlyMap<string, bigint>> {
    let origins = this.known.get(partition);
    if (origins === undefined) {
      origins = (await this.read([partition])).get(partition) ?? new Map<string, bigint>();
      this.known.set(partition, origins);
    }
    return origins;
  }

  /** In the batch's transaction: stores the partition's origins that moved (call `applied` once it commits, `forget` if it fails). */
  async record(connection: Queryable, partition: number, origins: ReadonlyMap<string, bigint>): Promise<void> {
    const before = this.known.get(partition);
    const moved = [...origins].filter(([origin, next]) => before?.get(origin) !== next);
    if (moved.length === 0) return;
    await connection.query(
      `INSERT INTO kelt_applied_origins (group_id, topic, partition_id, origin_topic, origin_partition, next_origin_offset) VALUES ?
       ON DUPLICATE KEY UPDATE next_origin_offset = VALUES(next_origin_offset)`,
      [
        moved.map(([origin, next]) => {
          const [originTopic, originPartition] = origin.split('/');
          return [this.groupId, this.topic, partition, originTopic, Number(originPartition), next.toString()];
        }),
      ],
    );
  }

  applied(partition: number, origins: ReadonlyMap<string, bigint>): void {
    this.known.set(partition, new Map(origins));
    this.movedWhileReading?.add(partition);
  }

  /** A transaction that may have moved them did not commit: read them afresh next time. */
  forget(partition: number): void {
    this.known.delete(partition);
  }

  private async read(partitions: readonly number[]): Promise<Map<number, AppliedOrigins>> {
    const stored = new Map<number, AppliedOrigins>();
    if (partitions.length === 0) return stored;
    try {
      const [rows] = await this.pool.query(
        'SELECT partition_id, origin_topic, origin_partition, next_origin_offset FROM kelt_applied_origins WHERE group_id = ? AND topic = ? AND partition_id IN (?)',
        [this.groupId, this.topic, partitions],
      );
      for (const row of rows as Array<{
        partition_id: number;
        origin_topic: string;
        origin_partition: number;
        next_origin_offset: number | string;
      }>) {
        const origins = stored.get(row.partition_id) ?? new Map<string, bigint>();
        origins.set(originKey({ topic: row.origin_topic, partition: row.origin_partition }), BigInt(row.next_origin_offset));
        stored.set(row.partition_id, origins);
      }
      return stored;
    } catch (error) {
      throw classifyMySqlError(error, 'reading the partitions’ applied origins');
    }
  }
}

/** Deletes a group's applied origins (a replay re-reads its topic and counts again). */
export async function clearAppliedOrigins(connection: Queryable, groupId: string): Promise<void> {
  await connection.query('DELETE FROM kelt_applied_origins WHERE group_id = ?', [groupId]);
}

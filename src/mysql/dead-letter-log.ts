import type { Queryable } from './queryable.ts';
import type { DeadLetterReason } from '../errors.ts';
import { classifyMySqlError } from './errors.ts';
import type { MySqlPool } from './pool.ts';

/**
 * kelt_dead_letters: which records of a partition a MySQL stage
 * dead-lettered, and why, written in the transaction that moves the
 * partition's position past them. The letters themselves go to the DLQ topic
 * afterwards, in the Kafka transaction that commits the group's offset; when
 * that transaction is lost (a crash, a fenced producer), the records are
 * below the MySQL position and are not processed again, so this log is where
 * their letters are found. Rows below the partition's committed Kafka offset
 * are published, and each batch prunes them.
 */
export const deadLetterLogSql = `CREATE TABLE IF NOT EXISTS kelt_dead_letters (
  group_id VARCHAR(255) NOT NULL,
  topic VARCHAR(255) NOT NULL,
  partition_id INT NOT NULL,
  record_offset BIGINT NOT NULL,
  reason VARCHAR(64) NOT NULL,
  error TEXT NOT NULL,
  PRIMARY KEY (group_id, topic, partition_id, record_offset)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

export interface LoggedDeadLetter {
  offset: string;
  reason: DeadLetterReason;
  error: string;
}

export class DeadLetterLog {
  private readonly pool: Pick<MySqlPool, 'query'>;
  private readonly groupId: string;
  private readonly topic: string;

  constructor(pool: Pick<MySqlPool, 'query'>, groupId: string, topic: string) {
    this.pool = pool;
    this.groupId = groupId;
    this.topic = topic;
  }

  /**
   * In the batch's transaction: logs its dead letters and prunes the
   * partition's letters below `publishedBefore` (the batch's first offset:
   * everything before it is in the DLQ already).
   */
  async record(connection: Queryable, partition: number, letters: readonly LoggedDeadLetter[], publishedBefore: string): Promise<void> {
    await connection.query('DELETE FROM kelt_dead_letters WHERE group_id = ? AND topic = ? AND partition_id = ? AND record_offset < ?', [
      this.groupId,
      this.topic,
      partition,
      publishedBefore,
    ]);
    if (letters.length === 0) return;
    await connection.query(
      'INSERT INTO kelt_dead_letters (group_id, topic, partition_id, record_offset, reason, error) VALUES ? ON DUPLICATE KEY UPDATE reason = VALUES(reason), error = VALUES(error)',
      [letters.map((letter) => [this.groupId, this.topic, partition, letter.offset, letter.reason, letter.error.slice(0, 2_000)])],
    );
  }

  /** The logged letters of a partition's records in [from, to), by offset. */
  async between(partition: number, from: string, to: string): Promise<Map<string, LoggedDeadLetter>> {
    try {
      const [rows] = await this.pool.query(
        `SELECT record_offset, reason, error FROM kelt_dead_letters
         WHERE group_id = ? AND topic = ? AND partition_id = ? AND record_offset >= ? AND record_offset < ?`,
        [this.groupId, this.topic, partition, from, to],
      );
      return new Map(
        (rows as Array<{ record_offset: number | string; reason: DeadLetterReason; error: string }>).map((row) => [
          String(row.record_offset),
          { offset: String(row.record_offset), reason: row.reason, error: row.error },
        ]),
      );
    } catch (error) {
      throw classifyMySqlError(error, 'reading logged dead letters');
    }
  }
}

import type { Queryable } from './queryable.ts';

/**
 * kelt_watermarks: per transform group, aggregate and partition of the
 * loaded topic, the highest event time (ms) of a window column the
 * transform has applied there. The pipeline's watermark is the lowest over
 * every partition (none until every partition has one): a window is final
 * once it passes the window's end plus the aggregate's lateness. Moved in
 * the batch's MySQL transaction, with the rows and the position.
 */
export const watermarksTableSql = `CREATE TABLE IF NOT EXISTS kelt_watermarks (
  group_id VARCHAR(255) NOT NULL,
  aggregate_table VARCHAR(64) NOT NULL,
  partition_id INT NOT NULL,
  watermark_ms BIGINT NOT NULL,
  PRIMARY KEY (group_id, aggregate_table, partition_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

export interface WatermarkScope {
  groupId: string;
  table: string;
  /** The loaded topic's partitions: the watermark waits for each of them. */
  partitions: number;
}

/** Raises one partition's watermark to `ms` (never lowers it). */
export async function raiseWatermark(connection: Queryable, scope: WatermarkScope, partition: number, ms: number): Promise<void> {
  await connection.query(
    `INSERT INTO kelt_watermarks (group_id, aggregate_table, partition_id, watermark_ms) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE watermark_ms = GREATEST(watermark_ms, VALUES(watermark_ms))`,
    [scope.groupId, scope.table, partition, ms],
  );
}

/** The pipeline's watermark for an aggregate: the lowest of its partitions', once every partition has one. */
export async function pipelineWatermark(connection: Queryable, scope: WatermarkScope): Promise<number | undefined> {
  const [rows] = await connection.query(
    'SELECT MIN(watermark_ms) AS low, COUNT(*) AS partitions FROM kelt_watermarks WHERE group_id = ? AND aggregate_table = ? AND partition_id < ?',
    [scope.groupId, scope.table, scope.partitions],
  );
  const [row] = rows as Array<{ low: number | string | null; partitions: number | string }>;
  return row === undefined || row.low === null || Number(row.partitions) < scope.partitions ? undefined : Number(row.low);
}

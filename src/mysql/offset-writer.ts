import type { PoolConnection } from 'mysql2/promise';

/**
 * Records a consumer group's next offset for a partition, inside the
 * transaction that wrote the rows it covers.
 */
export async function writeOffset(
  connection: Pick<PoolConnection, 'query'>,
  groupId: string,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  await connection.query(
    `INSERT INTO kelt_offsets (group_id, topic, partition_id, next_offset, updated_at)
     VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), updated_at = VALUES(updated_at)`,
    [groupId, topic, partition, nextOffset],
  );
}

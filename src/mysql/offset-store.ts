/**
 * kelt_offsets: a consumer group's position per partition, written in the
 * same MySQL transaction as the rows it covers.
 */
export const offsetsTableSql = `CREATE TABLE IF NOT EXISTS kelt_offsets (
  group_id VARCHAR(255) NOT NULL,
  topic VARCHAR(255) NOT NULL,
  partition_id INT NOT NULL,
  next_offset BIGINT NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (group_id, topic, partition_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MySqlTable } from '../../src/mysql/table.ts';
import type { BenchFixture } from './fixture.ts';

const stackScript = fileURLToPath(new URL('../stack', import.meta.url));

/**
 * Kafka's own consumer (ConsumerPerformance, from the broker's jars) reading
 * `records` records of a topic: the fetch rate, without group-join time, so
 * that it compares with the stages' rate from joining to lag 0.
 */
export async function consumerPerfCeiling(fixture: BenchFixture, topic: string, records: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    stackScript,
    [
      'kafka-tool',
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      fixture.endpoints.kafkaBrokers.join(','),
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      `${fixture.id}-perf-${Date.now()}`,
      '--timeout',
      '60000',
    ],
    { maxBuffer: 4 * 1024 * 1024 },
  );
  const lines = stdout.trim().split('\n');
  const header = lines.findIndex((line) => line.startsWith('start.time'));
  const names = lines[header]!.split(',').map((name) => name.trim());
  const values = lines[header + 1]!.split(',').map((value) => value.trim());
  return Number(values[names.indexOf('fetch.nMsg.sec')]);
}

/**
 * The rows a stage wrote, read back and written again the fastest plain way:
 * multi-row upserts of `rowsPerStatement` over `connections` connections in
 * parallel (the stage works on that many partitions at once), into the
 * emptied table. Rows per second.
 */
export async function insertCeiling(
  fixture: BenchFixture,
  table: MySqlTable,
  rowsPerStatement: number,
  connections: number,
): Promise<{ rows: number; rowsPerSecond: number }> {
  const pool = fixture.connections.mysql(connections);
  try {
    const [rows] = await pool.query({
      sql: `SELECT ${table.columns.map((c) => `\`${c.name}\``).join(', ')} FROM \`${table.name}\``,
      rowsAsArray: true,
    });
    const all = rows as unknown[][];
    await pool.query(`TRUNCATE TABLE \`${table.name}\``);
    const slices = Array.from({ length: connections }, (_, i) => all.filter((_, j) => j % connections === i));
    const started = performance.now();
    await Promise.all(
      slices.map(async (slice) => {
        const connection = await pool.getConnection();
        try {
          await table.upsert(connection, slice, rowsPerStatement);
        } finally {
          connection.release();
        }
      }),
    );
    return { rows: all.length, rowsPerSecond: all.length / ((performance.now() - started) / 1000) };
  } finally {
    await pool.end();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { MySqlTable } from '../../src/mysql/table.ts';
import { runStack } from '../stack-script.ts';

/** The peer's binary, built (once, cached) by `scripts/stack peer`. */
export async function redpandaConnectBinary(): Promise<string> {
  const { KELT_REDPANDA_CONNECT: binary } = await runStack(['peer']);
  if (binary === undefined) throw new Error('scripts/stack peer printed no KELT_REDPANDA_CONNECT');
  return binary;
}

export interface PeerJob {
  brokers: string[];
  topic: string;
  group: string;
  /** mysql://user:password@host:port/database */
  mysqlUrl: string;
  /** The table to fill: the same shape as kelt's staging table. */
  table: MySqlTable;
  /** The table's name, when it is a copy of `table` under another name. */
  tableName: string;
}

/**
 * The job a user would give Redpanda Connect instead of kelt's extract and
 * load: JSON events from a topic upserted by primary key into a table of the
 * staging table's shape, with the same source-position columns filled from
 * the record's metadata. Its tuning is the one the performance issue
 * measured the peer with (batches of 1,000 rows, 4 in flight, 2 pipeline
 * threads) plus batching at the input too, the fastest of the variants tried
 * on the benchmark machine (16,200–16,800 rows/s against 14,100 without;
 * 8 or 16 in flight and 4 threads made no difference).
 */
export function peerConfig(job: PeerJob): object {
  const url = new URL(job.mysqlUrl);
  const dsn = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}@tcp(${url.hostname}:${url.port || '3306'})${url.pathname}`;
  const keys = new Set(job.table.primaryKey);
  const updates = job.table.columns.filter((column) => !keys.has(column.name)).map((column) => `\`${column.name}\` = VALUES(\`${column.name}\`)`);
  return {
    http: { enabled: false },
    logger: { level: 'WARN' },
    input: {
      kafka_franz: {
        seed_brokers: job.brokers,
        topics: [job.topic],
        consumer_group: job.group,
        start_from_oldest: true,
        // Its default (5 s) would make the benchmark see it finish up to 5 s late.
        commit_period: '100ms',
        batching: { count: 1000, period: '100ms' },
      },
    },
    pipeline: { threads: 2, processors: [] },
    output: {
      sql_insert: {
        driver: 'mysql',
        dsn,
        table: job.tableName,
        columns: job.table.columns.map((column) => column.name),
        args_mapping: `root = [ ${job.table.columns.map((column) => argumentOf(column.field, column.sqlType)).join(', ')} ]`,
        suffix: `ON DUPLICATE KEY UPDATE ${updates.join(', ')}`,
        max_in_flight: 4,
        batching: { count: 1000, period: '100ms' },
      },
    },
  };
}

/** One column's value in Bloblang: the event's field, or (kelt's metadata columns) the record's Kafka metadata. */
function argumentOf(field: string, sqlType: string): string {
  const datetime = (millis: string) => `(${millis} / 1000).ts_format("2006-01-02 15:04:05.000", "UTC")`;
  switch (field) {
    case 'keltSourceTopic':
      return 'meta("kafka_topic")';
    case 'keltSourcePartition':
      return 'meta("kafka_partition").number()';
    case 'keltSourceOffset':
      return 'meta("kafka_offset").number()';
    case 'keltIngestedAt':
      return datetime('now().ts_unix_milli()');
    default:
      return sqlType.startsWith('DATETIME') ? datetime(`this.${field}`) : `this.${field}`;
  }
}

/** Redpanda Connect running one config; it consumes until stopped. */
export class RedpandaConnectProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(binary: string, config: object, dir: string, name: string) {
    const configFile = join(dir, `${name}.yaml`);
    writeFileSync(configFile, stringifyYaml(config));
    const log = openSync(join(dir, `${name}.log`), 'a');
    this.child = spawn(binary, ['run', configFile], { stdio: ['ignore', log, log] });
    const orphanGuard = () => this.child.kill('SIGKILL');
    process.once('exit', orphanGuard);
    this.child.once('exit', () => process.off('exit', orphanGuard));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

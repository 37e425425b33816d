import { ConfigError } from '../errors.ts';
import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import type { KafkaCluster } from '../kafka/client.ts';
import type { Logger } from '../log/logger.ts';
import { deadLetterLogSql } from '../mysql/dead-letter-log.ts';
import { offsetsTableSql } from '../mysql/offset-store.ts';
import type { MySqlPool } from '../mysql/pool.ts';
import { extractedSchema } from '../pipeline/extracted-schema.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { aggregateTables, modelTables, stagingTable } from '../mysql/pipeline-tables.ts';
import { watermarksTableSql } from '../mysql/watermarks.ts';
import { appliedOriginsTableSql, evolveAppliedOriginsTable } from '../mysql/applied-origins.ts';
import type { SchemaRegistryClient } from '../registry/client.ts';
import { evolveTable } from '../mysql/table-evolution.ts';
import type { MySqlAggregateTable } from '../mysql/aggregate-table.ts';
import { quoteId } from '../mysql/table.ts';
import { backwardProblems } from '../pipeline/schema-compatibility.ts';
import type avro from 'avsc';

export interface MigrateDependencies {
  kafka: KafkaCluster;
  registry: SchemaRegistryClient;
  mysql: MySqlPool;
  logger: Logger;
}

export interface MigrateReport {
  topicsCreated: string[];
  /** Topics given partitions up to the spec's count: `topic: from → to`. */
  topicsGrown: string[];
  schemaIds: Record<string, number>;
  tables: string[];
  /** What changed in existing tables (columns added, widened, made NULL-able), and tables created. */
  tableChanges: string[];
}

/**
 * Creates what a pipeline needs, idempotently: its topics with the spec's
 * partition count, its schemas in the registry, its MySQL tables and kelt's
 * offsets table. Running it again changes nothing. A spec whose partition
 * count grew grows every topic of the pipeline to it, together (a stage
 * refuses to run while their counts differ); fewer partitions than a topic
 * has is refused, since Kafka cannot shrink a topic.
 *
 * With an updated spec it evolves the pipeline, add-only: a source schema
 * that cannot read every version registered before is refused (naming the
 * field and the rule) before anything changes; tables gain the new columns
 * and widened types (src/mysql/table-evolution.ts).
 */
export async function migrate(pipeline: Pipeline, deps: MigrateDependencies): Promise<MigrateReport> {
  await checkCompatibility(pipeline, deps.registry);
  const { created: topicsCreated, grown: topicsGrown } = await createTopics(pipeline, deps);
  const schemaIds = await registerSchemas(pipeline, deps.registry);
  const aggregates = aggregateTables(pipeline);
  const tables = [stagingTable(pipeline), ...modelTables(pipeline)];
  await deps.mysql.query(offsetsTableSql);
  await deps.mysql.query(deadLetterLogSql);
  await deps.mysql.query(watermarksTableSql);
  await deps.mysql.query(appliedOriginsTableSql);
  await evolveAppliedOriginsTable(deps.mysql);
  const tableChanges: string[] = [];
  for (const table of tables) tableChanges.push(...(await evolveTable(deps.mysql, table)));
  const changed: string[] = [];
  for (const aggregate of aggregates) {
    const outcome = await migrateAggregate(deps.mysql, aggregate, pipeline.name);
    if (outcome === 'changed')
      changed.push(`${aggregate.aggregate.name}: the spec changes its definition (its rows hold the numbers of the one before)`);
    else tableChanges.push(...outcome);
  }
  if (changed.length > 0) {
    throw new ConfigError(
      `the spec changes aggregates; everything else is migrated. Rebuild them from their model tables: ${rebuildCommand(pipeline.name)}`,
      changed,
    );
  }
  const aggregateNames = aggregates.flatMap(({ table, members }) => [table.name, ...(members === undefined ? [] : [members.name])]);
  const report = {
    topicsCreated,
    topicsGrown,
    schemaIds,
    tables: ['kelt_offsets', ...tables.map((table) => table.name), ...aggregateNames],
    tableChanges,
  };
  deps.logger.info(report, 'migrated');
  return report;
}

const rebuildCommand = (pipeline: string) => `kelt replay --pipeline <${pipeline}'s spec> --aggregates-only (with the transform stopped)`;

/**
 * An aggregate's tables: created, or evolved while the definition that built
 * them (the table's comment) is the spec's. Tables from before aggregates
 * were views (no such comment: they counted records) gain the new columns
 * and keep their rows, marked stale, which the transform refuses until a
 * rebuild. A changed definition is left as it is: 'changed'.
 */
async function migrateAggregate(pool: MySqlPool, aggregate: MySqlAggregateTable, pipeline: string): Promise<string[] | 'changed'> {
  const [rows] = await pool.query(
    'SELECT TABLE_COMMENT AS comment FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [aggregate.table.name],
  );
  const comment = (rows as Array<{ comment: string }>)[0]?.comment;
  const stale = `kelt aggregate stale: ${aggregate.signature}`;
  if (comment !== undefined && comment !== aggregate.signature && comment !== stale && comment.startsWith('kelt aggregate')) return 'changed';
  const changes = [
    ...(await evolveTable(pool, aggregate.table)),
    ...(aggregate.members === undefined ? [] : await evolveTable(pool, aggregate.members)),
  ];
  if (comment === undefined || comment === aggregate.signature) return changes;
  if (comment !== stale) await pool.query(`ALTER TABLE ${quoteId(aggregate.table.name)} COMMENT = ?`, [stale]);
  return [
    ...changes,
    `${aggregate.table.name}: counted by kelt's rules before aggregates were views (records, not rows); the transform waits for ${rebuildCommand(pipeline)}`,
  ];
}

async function createTopics(pipeline: Pipeline, { kafka }: MigrateDependencies): Promise<{ created: string[]; grown: string[] }> {
  const admin = await openClusterAdmin(kafka);
  try {
    const wanted = Object.values(pipeline.topics);
    const existing = new Set(await admin.topicNames());
    const counts = await admin.partitionCounts(wanted.filter((topic) => existing.has(topic)));
    const larger = [...counts].filter(([, count]) => count > pipeline.partitions);
    if (larger.length > 0) {
      throw new ConfigError(
        `the spec's ${pipeline.partitions} partitions are fewer than the pipeline's topics have; Kafka cannot shrink a topic: set 'partitions: ${Math.max(...larger.map(([, count]) => count))}' in ${pipeline.specPath}`,
        larger.map(([topic, count]) => `${topic} has ${count} partitions`),
      );
    }
    const smaller = [...counts].filter(([, count]) => count < pipeline.partitions);
    if (smaller.length > 0)
      await admin.growTopics(
        smaller.map(([topic]) => topic),
        pipeline.partitions,
      );
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) await admin.createTopics(missing, pipeline.partitions);
    return { created: missing, grown: smaller.map(([topic, count]) => `${topic}: ${count} → ${pipeline.partitions}`) };
  } finally {
    await admin.close();
  }
}

/** The spec's schema must read every version registered for the pipeline's topics (raw, when Avro, and extracted). */
async function checkCompatibility(pipeline: Pipeline, registry: SchemaRegistryClient): Promise<void> {
  const subjects: Array<[string, avro.schema.RecordType]> = [[`${pipeline.topics.extracted}-value`, extractedSchema(pipeline.source.schema)]];
  if (pipeline.source.format === 'avro') subjects.unshift([`${pipeline.topics.raw}-value`, pipeline.source.schema]);
  const problems: string[] = [];
  for (const [subject, reader] of subjects) {
    for (const { version, schema } of await registry.registeredSchemas(subject)) {
      problems.push(...backwardProblems(reader, schema as avro.schema.RecordType, `${subject} version ${version}`));
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`the source schema ${pipeline.source.schemaPath} cannot read what was written before`, [...new Set(problems)]);
  }
}

async function registerSchemas(pipeline: Pipeline, registry: SchemaRegistryClient): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  if (pipeline.source.format === 'avro') {
    ids[`${pipeline.topics.raw}-value`] = await registry.registerAvro(`${pipeline.topics.raw}-value`, pipeline.source.schema);
  }
  const extracted = extractedSchema(pipeline.source.schema);
  for (const topic of [pipeline.topics.extracted, pipeline.topics.loaded]) {
    ids[`${topic}-value`] = await registry.registerAvro(`${topic}-value`, extracted);
  }
  return ids;
}

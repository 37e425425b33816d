import type { Kafka } from 'kafkajs';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { deadLetterLogSql } from '../mysql/dead-letter-log.ts';
import { offsetsTableSql } from '../mysql/offset-store.ts';
import type { MySqlPool } from '../mysql/pool.ts';
import { extractedSchema } from '../pipeline/extracted-schema.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { modelTables, stagingTable } from '../pipeline/tables.ts';
import type { SchemaRegistryClient } from '../registry/client.ts';

export interface MigrateDependencies {
  kafka: Kafka;
  registry: SchemaRegistryClient;
  mysql: MySqlPool;
  logger: Logger;
}

export interface MigrateReport {
  topicsCreated: string[];
  schemaIds: Record<string, number>;
  tables: string[];
}

/**
 * Creates what a pipeline needs, idempotently: its topics with the spec's
 * partition count, its schemas in the registry, its MySQL tables and kelt's
 * offsets table. Running it again changes nothing; a topic that exists with
 * another partition count is an error, since keys would move partitions.
 */
export async function migrate(pipeline: Pipeline, deps: MigrateDependencies): Promise<MigrateReport> {
  const topicsCreated = await createTopics(pipeline, deps);
  const schemaIds = await registerSchemas(pipeline, deps.registry);
  const tables = [stagingTable(pipeline), ...modelTables(pipeline)];
  await deps.mysql.query(offsetsTableSql);
  await deps.mysql.query(deadLetterLogSql);
  for (const table of tables) await table.create(deps.mysql);
  const report = { topicsCreated, schemaIds, tables: ['kelt_offsets', ...tables.map((table) => table.name)] };
  deps.logger.info(report, 'migrated');
  return report;
}

async function createTopics(pipeline: Pipeline, { kafka }: MigrateDependencies): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted = Object.values(pipeline.topics);
    const existing = new Set(await admin.listTopics());
    const present = wanted.filter((topic) => existing.has(topic));
    if (present.length > 0) {
      const { topics } = await admin.fetchTopicMetadata({ topics: present });
      const mismatched = topics
        .filter((topic) => topic.partitions.length !== pipeline.partitions)
        .map((topic) => `${topic.name} has ${topic.partitions.length} partitions, the spec says ${pipeline.partitions}`);
      if (mismatched.length > 0) throw new ConfigError('existing topics do not match the pipeline', mismatched);
    }
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: pipeline.partitions })),
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
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

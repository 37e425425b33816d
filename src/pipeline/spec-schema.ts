import { z } from 'zod';
import { aggregateSpecSchema } from './aggregates.ts';

/**
 * A pipeline spec (YAML) declared once: this schema drives validation at
 * start-up, `kelt validate`, and the defaults. Paths in a spec are relative
 * to the spec file.
 */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a SQL identifier: letters, digits and _, at most 64');
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name: letters, digits, . _ -');
const positiveInt = z.int().positive();

/**
 * The pipeline spec file. Each field's description is its reference: the
 * JSON Schema (schemas/pipeline.schema.json) and docs/pipeline-spec.md are
 * generated from it (npm run docs), and a test fails when they drift.
 */
export const specSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,47}$/, 'must start with a lowercase letter; lowercase letters, digits, _ and -')
      .describe(
        'The pipeline’s name: its topics (<name>.raw|extracted|loaded|dlq), consumer groups (kelt.<name>.<stage>) and metrics are named after it.',
      ),
    partitions: positiveInt
      .max(1024)
      .default(12)
      .describe('Partitions of each of the pipeline’s topics, created by kelt migrate; the most members a stage can spread over.'),
    source: z
      .strictObject({
        format: z
          .enum(['avro', 'json', 'debezium'])
          .default('avro')
          .describe(
            'How raw events are encoded: Avro in the Confluent wire format (schema id in each record), JSON checked against the schema, or Debezium change events (JSON converter with or without schemas, or Avro through the registry): the row after an insert, update or snapshot read is upserted, the row before a delete deleted; tombstones and truncates are absorbed.',
          ),
        schema: z
          .string()
          .min(1)
          .describe('The Avro schema of raw events (.avsc), relative to the spec file; kelt migrate registers it as <raw topic>-value.'),
        keyField: z.string().min(1).describe('The field extract keys records by: a key’s records share a partition, so their order is kept.'),
        generator: z
          .string()
          .min(1)
          .optional()
          .describe('A module whose default export makes example events, for kelt produce --generate and the demo.'),
      })
      .describe('Where events come from and what they look like.'),
    topics: z
      .strictObject({
        raw: topicName.describe('Raw events (default <name>.raw).'),
        extracted: topicName.describe('Validated, re-keyed events (default <name>.extracted).'),
        loaded: topicName.describe('Events staged in MySQL (default <name>.loaded).'),
        dlq: topicName.describe('Dead letters of every stage (default <name>.dlq).'),
      })
      .partial()
      .default({})
      .describe('Topic names, when the defaults are not them.'),
    staging: z
      .strictObject({
        table: identifier.describe('The staging table load upserts raw rows into.'),
        primaryKey: z.array(z.string().min(1)).min(1).describe('Source fields that make a row’s primary key.'),
        columns: z
          .record(z.string().min(1), z.string().regex(/^(text|varchar\(\d+\))$/, 'must be text or varchar(n)'))
          .default({})
          .describe('A string field’s column when VARCHAR(255) is not it: varchar(n), or text (which cannot be indexed whole).'),
        delete: z
          .strictObject({
            field: z.string().min(1).describe('The source field to look at.'),
            equals: z.union([z.string(), z.number(), z.boolean()]).describe('The value that makes the record a delete.'),
          })
          .optional()
          .describe('Records whose field equals this value delete their staging row (a Debezium envelope’s op: d).'),
      })
      .describe('The staging table: raw events as rows.'),
    transform: z
      .strictObject({
        module: z
          .string()
          .min(1)
          .describe('The transform module, relative to the spec file: default export (record) => { table: row | rows }, or a promise of it.'),
        tables: z
          .array(
            z.strictObject({
              name: identifier.describe('The model table’s name.'),
              primaryKey: z.array(identifier).min(1).describe('Columns that make a row’s primary key.'),
              columns: z
                .record(identifier, z.string())
                .describe(
                  'Column name → type: string, varchar(n), text, int, long, double, boolean, decimal(p,s), date, time, timestamp, bytes, uuid, json.',
                ),
            }),
          )
          .min(1)
          .describe('The model tables the transform writes.'),
        aggregates: z.array(aggregateSpecSchema).default([]).describe('Aggregate tables kept from a model table’s rows, exactly once.'),
        timeoutMs: positiveInt
          .min(10)
          .max(600_000)
          .default(5_000)
          .describe(
            'The longest the transform may take on one record (an endless loop, a promise that never settles): past it the record is dead-lettered.',
          ),
      })
      .describe('The transform stage: the module and the tables it writes.'),
    batch: z
      .strictObject({
        chunkRecords: positiveInt.max(100_000).default(250).describe('Records per worker task.'),
        insertRows: positiveInt.max(10_000).default(1_000).describe('Rows per multi-row INSERT.'),
        queryTimeoutMs: positiveInt
          .min(1_000)
          .max(3_600_000)
          .default(60_000)
          .describe(
            'A stage’s MySQL statement without an answer by then (a blackholed connection, a server that stopped answering) fails and is retried on a new connection.',
          ),
      })
      .default({ chunkRecords: 250, insertRows: 1_000, queryTimeoutMs: 60_000 })
      .describe('How batches are cut and written.'),
    pool: z
      .strictObject({
        threads: positiveInt.max(256).optional().describe('Worker threads per stage process (default: one per core).'),
        maxQueue: positiveInt.optional().describe('Queued tasks at which a stage pauses fetching (default: 4 per thread).'),
        memoryMb: positiveInt
          .min(32)
          .max(65_536)
          .default(512)
          .describe('Each worker’s heap (extract’s and transform’s): a record whose extraction or transform allocates past it is dead-lettered.'),
      })
      .default({ memoryMb: 512 })
      .describe('The Piscina worker pool of extract and transform.'),
    deadLetters: z
      .strictObject({
        breakerRatio: z
          .number()
          .gt(0)
          .max(1)
          .default(0.5)
          .describe('The share of the window’s records that would be dead-lettered at which a stage stops and lets them wait in Kafka.'),
        breakerMinRecords: positiveInt.default(500).describe('Records the window must hold before the share counts.'),
        breakerWindowSeconds: positiveInt.max(3_600).default(60).describe('The window’s length.'),
      })
      .default({ breakerRatio: 0.5, breakerMinRecords: 500, breakerWindowSeconds: 60 })
      .describe('The dead-letter circuit breaker.'),
    consumer: z
      .strictObject({
        sessionTimeoutMs: positiveInt
          .min(6_000)
          .max(300_000)
          .default(30_000)
          .describe(
            'How long a member that stopped heartbeating (killed, hung) keeps its partitions before the group rebalances them to the others.',
          ),
      })
      .default({ sessionTimeoutMs: 30_000 })
      .describe('Consumer group settings.'),
  })
  .describe('A kelt pipeline: raw events → staging table → model tables, over Kafka.');

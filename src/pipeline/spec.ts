import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type avro from 'avsc';
import { avroType } from '../avro/logical-types.ts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { columnsFromAvro, modelColumnType, snakeCase, type StringColumnType } from './sql-types.ts';
import { keltTables, MAX_IDENTIFIER, objectPrototypeNames } from './reserved-names.ts';
import { extractedSchema } from './extracted-schema.ts';
import { aggregatesFrom, type Aggregate } from './aggregates.ts';
import type { ModelTable } from './model-table.ts';

import { specSchema } from './spec-schema.ts';

export { specSchema };

export type PipelineSpecInput = z.input<typeof specSchema>;

export type { ModelTable } from './model-table.ts';

/** The dead-letter circuit breaker's settings (spec `deadLetters`; see stages/dead-letter-breaker.ts). */
export interface BreakerSettings {
  /** The share of dead letters among the window's records at which the breaker opens. */
  ratio: number;
  /** Records the window must hold before the share counts (a few bad records alone never open it). */
  minRecords: number;
  windowMs: number;
}

export interface StagingDeletes {
  when: { field: string; equals: string | number | boolean } | undefined;
  /** A tombstone (no value) deletes the row its key names: only when the key field is the whole primary key. */
  tombstones: boolean;
}

export interface Pipeline {
  name: string;
  specPath: string;
  partitions: number;
  source: {
    format: 'avro' | 'json' | 'debezium';
    schemaPath: string;
    /** The value schema, parsed: raw events must conform to it. */
    schema: avro.schema.RecordType;
    keyField: string;
    generatorPath: string | undefined;
  };
  topics: { raw: string; extracted: string; loaded: string; dlq: string };
  staging: {
    table: string;
    primaryKey: string[];
    columns: Record<string, StringColumnType>;
    /** Records that delete their row: a field's value, and tombstones when the key field is the primary key. */
    deletes: StagingDeletes;
  };
  transform: { modulePath: string; tables: ModelTable[]; aggregates: Aggregate[]; timeoutMs: number };
  batch: { chunkRecords: number; insertRows: number; queryTimeoutMs: number };
  pool: { threads: number; maxQueue: number; memoryMb: number };
  deadLetters: { breaker: BreakerSettings };
  consumer: { sessionTimeoutMs: number };
}

/** Reads, parses and validates a pipeline spec; every problem found is named in one ConfigError. */
export function loadPipeline(specPath: string): Pipeline {
  const path = resolve(specPath);
  if (!existsSync(path)) throw new ConfigError(`pipeline spec ${specPath} does not exist`);
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`pipeline spec ${specPath} is not valid YAML: ${(error as Error).message}`);
  }
  return pipelineFrom(document, path);
}

export function pipelineFrom(document: unknown, specPath: string): Pipeline {
  const parsed = specSchema.safeParse(document);
  if (!parsed.success) {
    throw new ConfigError(
      `pipeline spec ${specPath} is invalid`,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`),
    );
  }
  const spec = parsed.data;
  const issues: string[] = [];
  const base = dirname(specPath);
  const fileAt = (field: string, relative: string): string => {
    const absolute = resolve(base, relative);
    if (!existsSync(absolute)) issues.push(`${field}: ${relative} does not exist (resolved to ${absolute})`);
    return absolute;
  };

  const schemaPath = fileAt('source.schema', spec.source.schema);
  const schema = readRecordSchema(schemaPath, issues);
  const fieldNames = new Set(schema?.fields.map((field) => field.name) ?? []);
  if (schema !== undefined) {
    if (!fieldNames.has(spec.source.keyField)) {
      issues.push(`source.keyField: ${spec.source.keyField} is not a field of ${spec.source.schema}`);
    }
    spec.staging.primaryKey.forEach((field, i) => {
      if (!fieldNames.has(field)) issues.push(`staging.primaryKey.${i}: ${field} is not a field of ${spec.source.schema}`);
    });
  }
  if (schema !== undefined) {
    if (spec.staging.delete !== undefined && !fieldNames.has(spec.staging.delete.field)) {
      issues.push(`staging.delete.field: ${spec.staging.delete.field} is not a field of ${spec.source.schema}`);
    }
    for (const field of Object.keys(spec.staging.columns)) {
      if (!fieldNames.has(field)) issues.push(`staging.columns.${field}: not a field of ${spec.source.schema}`);
    }
    try {
      columnsFromAvro(extractedSchema(schema), spec.staging.primaryKey, spec.staging.columns as Record<string, StringColumnType>);
    } catch (error) {
      issues.push(`source.schema: ${(error as Error).message}`);
    }
  }
  spec.transform.tables.forEach((table, t) => {
    for (const [column, type] of Object.entries(table.columns)) {
      const problem = modelColumnType(type, table.primaryKey.includes(column));
      if (typeof problem === 'string') issues.push(`transform.tables.${t}.columns.${column}: ${type} ${problem}`);
    }
    table.primaryKey.forEach((column, i) => {
      if (!(column in table.columns)) {
        issues.push(`transform.tables.${t}.primaryKey.${i}: ${column} is not one of the table's columns`);
      }
    });
  });
  const aggregates = aggregatesFrom(spec.transform.aggregates, spec.transform.tables, issues);
  issues.push(...tableNameProblems(spec, aggregates), ...columnNameProblems(spec, schema));
  const modulePath = fileAt('transform.module', spec.transform.module);
  const generatorPath = spec.source.generator === undefined ? undefined : fileAt('source.generator', spec.source.generator);
  if (issues.length > 0 || schema === undefined) throw new ConfigError(`pipeline spec ${specPath} is invalid`, issues);

  const threads = spec.pool.threads ?? Math.max(1, availableParallelism());
  return {
    name: spec.name,
    specPath,
    partitions: spec.partitions,
    source: { format: spec.source.format, schemaPath, schema, keyField: spec.source.keyField, generatorPath },
    topics: {
      raw: spec.topics.raw ?? `${spec.name}.raw`,
      extracted: spec.topics.extracted ?? `${spec.name}.extracted`,
      loaded: spec.topics.loaded ?? `${spec.name}.loaded`,
      dlq: spec.topics.dlq ?? `${spec.name}.dlq`,
    },
    staging: {
      table: spec.staging.table,
      primaryKey: spec.staging.primaryKey,
      columns: spec.staging.columns as Record<string, StringColumnType>,
      deletes: {
        when: spec.staging.delete,
        tombstones: spec.staging.primaryKey.length === 1 && spec.staging.primaryKey[0] === spec.source.keyField,
      },
    },
    transform: { modulePath, tables: spec.transform.tables, aggregates, timeoutMs: spec.transform.timeoutMs },
    batch: spec.batch,
    pool: { threads, maxQueue: spec.pool.maxQueue ?? threads * 4, memoryMb: spec.pool.memoryMb },
    deadLetters: {
      breaker: {
        ratio: spec.deadLetters.breakerRatio,
        minRecords: spec.deadLetters.breakerMinRecords,
        windowMs: spec.deadLetters.breakerWindowSeconds * 1000,
      },
    },
    consumer: spec.consumer,
  };
}

function readRecordSchema(path: string, issues: string[]): avro.schema.RecordType | undefined {
  if (!existsSync(path)) return undefined;
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(path, 'utf8'));
    avroType(schema as avro.Schema);
  } catch (error) {
    issues.push(`source.schema: ${path} is not a valid Avro schema: ${(error as Error).message}`);
    return undefined;
  }
  if ((schema as { type?: unknown }).type !== 'record') {
    issues.push(`source.schema: ${path} must be an Avro record schema`);
    return undefined;
  }
  return schema as avro.schema.RecordType;
}

/** Table names that are kelt's own, or that two of the pipeline's tables share (MySQL may fold case). */
function tableNameProblems(spec: z.infer<typeof specSchema>, aggregates: readonly Aggregate[]): string[] {
  const named: Array<[string, string]> = [
    ['staging.table', spec.staging.table],
    ...spec.transform.tables.map((table, t): [string, string] => [`transform.tables.${t}.name`, table.name]),
    ...aggregates.flatMap((aggregate, a): Array<[string, string]> => [
      [`transform.aggregates.${a}.name`, aggregate.name],
      [`transform.aggregates.${a}.name`, aggregate.membersTable],
    ]),
  ];
  const problems: string[] = [];
  const firstAt = new Map<string, string>();
  for (const [field, name] of named) {
    const folded = name.toLowerCase();
    if (keltTables.includes(folded)) problems.push(`${field}: ${name} is a table of kelt's own (${keltTables.join(', ')}); choose another name`);
    const earlier = firstAt.get(folded);
    // An aggregate named like a model table is reported where aggregates are checked.
    const reported = earlier?.startsWith('transform.tables.') === true && field.startsWith('transform.aggregates.');
    if (earlier !== undefined && earlier !== field && !reported) problems.push(`${field}: ${name} is also the table of ${earlier}`);
    if (earlier === undefined) firstAt.set(folded, field);
  }
  return problems;
}

/**
 * Staging columns (the source's fields in snake_case) that collide or pass
 * MySQL's 64 characters, and model columns a transform's row cannot be read by.
 */
function columnNameProblems(spec: z.infer<typeof specSchema>, schema: avro.schema.RecordType | undefined): string[] {
  const problems: string[] = [];
  const fieldOf = new Map<string, string>();
  for (const field of schema === undefined ? [] : extractedSchema(schema).fields) {
    const column = snakeCase(field.name);
    if (column.length > MAX_IDENTIFIER)
      problems.push(`source.schema: field ${field.name} becomes column ${column}, longer than MySQL's ${MAX_IDENTIFIER} characters`);
    const earlier = fieldOf.get(column);
    if (earlier !== undefined) problems.push(`source.schema: fields ${earlier} and ${field.name} both become column ${column}`);
    else fieldOf.set(column, field.name);
  }
  spec.transform.tables.forEach((table, t) => {
    for (const column of Object.keys(table.columns)) {
      if (objectPrototypeNames.has(column))
        problems.push(
          `transform.tables.${t}.columns.${column}: every JavaScript object has a ${column}, so a row could not leave it unset; choose another name`,
        );
    }
  });
  return problems;
}

import { MySqlAggregateTable } from '../mysql/aggregate-table.ts';
import { MySqlTable } from '../mysql/table.ts';
import { extractedSchema } from './extracted-schema.ts';
import type { Pipeline } from './spec.ts';
import { columnsFromAvro, columnsFromModel, snakeCase } from './sql-types.ts';

/** The staging table: every field of the extracted record, keyed by the spec's primary key. */
export function stagingTable(pipeline: Pipeline): MySqlTable {
  const columns = columnsFromAvro(extractedSchema(pipeline.source.schema), pipeline.staging.primaryKey, pipeline.staging.columns);
  return new MySqlTable(pipeline.staging.table, columns, pipeline.staging.primaryKey.map(snakeCase));
}

export function modelTables(pipeline: Pipeline): MySqlTable[] {
  return pipeline.transform.tables.map((table) => new MySqlTable(table.name, columnsFromModel(table.columns, table.primaryKey), table.primaryKey));
}

/** The aggregates' tables and their members tables (for count_distinct). */
export function aggregateTables(pipeline: Pipeline): MySqlTable[] {
  const models = modelTables(pipeline);
  return pipeline.transform.aggregates.flatMap((aggregate) => {
    const { table, members } = new MySqlAggregateTable(
      aggregate,
      models.find((model) => model.name === aggregate.from)!,
    );
    return members === undefined ? [table] : [table, members];
  });
}

import { MySqlAggregateTable } from './aggregate-table.ts';
import { extremeIndexes } from './extreme-indexes.ts';
import { MySqlTable } from './table.ts';
import { extractedSchema } from '../pipeline/extracted-schema.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { columnsFromAvro, columnsFromModel, snakeCase } from '../pipeline/sql-types.ts';

/** The staging table: every field of the extracted record, keyed by the spec's primary key. */
export function stagingTable(pipeline: Pipeline): MySqlTable {
  const columns = columnsFromAvro(extractedSchema(pipeline.source.schema), pipeline.staging.primaryKey, pipeline.staging.columns);
  return new MySqlTable(pipeline.staging.table, columns, pipeline.staging.primaryKey.map(snakeCase));
}

/** The model tables, with the indexes their aggregates' min and max read through. */
export function modelTables(pipeline: Pipeline): MySqlTable[] {
  return pipeline.transform.tables.map((table) => {
    const plain = new MySqlTable(table.name, columnsFromModel(table.columns, table.primaryKey), table.primaryKey);
    return new MySqlTable(plain.name, plain.columns, plain.primaryKey, { indexes: extremeIndexes(pipeline.transform.aggregates, plain) });
  });
}

/** The aggregates' tables (with their members tables, for count_distinct), over the model tables. */
export function aggregateTables(pipeline: Pipeline): MySqlAggregateTable[] {
  const models = modelTables(pipeline);
  return pipeline.transform.aggregates.map(
    (aggregate) =>
      new MySqlAggregateTable(
        aggregate,
        models.find((model) => model.name === aggregate.from)!,
      ),
  );
}

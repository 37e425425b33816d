import type { Command } from 'commander';
import { loadPipeline, type Pipeline } from '../../pipeline/spec.ts';

function describePipeline(pipeline: Pipeline): string {
  return [
    `pipeline ${pipeline.name}: ${pipeline.partitions} partitions, ${pipeline.source.format} source keyed by ${pipeline.source.keyField}`,
    `  topics: ${Object.values(pipeline.topics).join(', ')}`,
    `  staging table: ${pipeline.staging.table} (primary key ${pipeline.staging.primaryKey.join(', ')})`,
    `  model tables: ${pipeline.transform.tables.map((table) => table.name).join(', ')}`,
    ...(pipeline.transform.aggregates.length === 0
      ? []
      : [
          `  aggregates: ${pipeline.transform.aggregates.map((a) => `${a.name} (from ${a.from}${a.window === undefined ? '' : `, ${a.window.as} windows`})`).join(', ')}`,
        ]),
    `  pool: ${pipeline.pool.threads} threads, pause at ${pipeline.pool.maxQueue} queued tasks; ${pipeline.batch.chunkRecords} records per task, ${pipeline.batch.insertRows} rows per INSERT`,
  ].join('\n');
}

/** `kelt validate <file>`: the spec checked and described, without connecting to anything. */
export function validateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a pipeline spec without connecting to anything')
    .argument('<file>', 'the pipeline spec (YAML)')
    .action((file: string) => {
      console.log(`${describePipeline(loadPipeline(file))}\nvalid`);
    });
}

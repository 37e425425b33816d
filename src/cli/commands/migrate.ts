import type { Command } from 'commander';
import { migrate } from '../../migrate/migrate.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import { connect } from '../../runtime/connections.ts';
import { pipelineOption } from '../options.ts';

/** `kelt migrate`: the pipeline's topics, schemas and tables created or evolved. */
export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("create the pipeline's topics, schemas and MySQL tables (idempotent)")
    .addOption(pipelineOption())
    .action(async ({ pipeline: specPath }: { pipeline: string }) => {
      const pipeline = loadPipeline(specPath);
      const { kafka, registry, mysql, logger } = connect('migrate', { pipeline: pipeline.name });
      const pool = mysql();
      try {
        const report = await migrate(pipeline, { kafka, registry, mysql: pool, logger });
        console.log(`topics created: ${report.topicsCreated.join(', ') || 'none (all existed)'}`);
        if (report.topicsGrown.length > 0) {
          console.log(`topics grown: ${report.topicsGrown.join(', ')}`);
          console.log(
            '  keys hash over the new count from now on: a key whose records sat in another partition before keeps its order only once the stages have caught up on the old records; restart the stages with this spec',
          );
        }
        console.log(
          `schemas: ${Object.entries(report.schemaIds)
            .map(([subject, id]) => `${subject}=${id}`)
            .join(', ')}`,
        );
        console.log(`tables: ${report.tables.join(', ')}`);
        for (const change of report.tableChanges) console.log(`  ${change}`);
      } finally {
        await pool.end();
      }
    });
}

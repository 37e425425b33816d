import { Option, type Command } from 'commander';
import { openClusterAdmin } from '../../kafka/cluster-admin.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import { connect } from '../../runtime/connections.ts';
import { formatStatus, pipelineStatus } from '../../status/pipeline-status.ts';
import { pipelineOption, positiveInteger } from '../options.ts';

/** `kelt status`: each stage group's members, lag and rate. */
export function statusCommand(program: Command): void {
  program
    .command('status')
    .description("each stage group's members, lag per partition and records/s")
    .addOption(pipelineOption())
    .addOption(new Option('--sample <seconds>', 'measure records/s over this many seconds').argParser(positiveInteger).default(2))
    .option('--json', 'print the status as JSON')
    .action(async (options: { pipeline: string; sample: number; json?: boolean }) => {
      const pipeline = loadPipeline(options.pipeline);
      const { kafka } = connect('status', { pipeline: pipeline.name }, { mysql: false });
      const admin = await openClusterAdmin(kafka);
      try {
        const statuses = await pipelineStatus(admin, pipeline, options.sample * 1000);
        console.log(options.json ? JSON.stringify(statuses, null, 2) : formatStatus(pipeline, statuses));
      } finally {
        await admin.close();
      }
    });
}

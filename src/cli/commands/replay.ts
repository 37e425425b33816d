import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import { replayTransform } from '../../replay/replay-command.ts';
import type { ReplayFrom } from '../../replay/transform-replay.ts';
import { connect } from '../../runtime/connections.ts';
import { pipelineOption } from '../options.ts';

function replayStart(options: {
  fromBeginning?: boolean;
  fromTimestamp?: string;
  fromOffsets?: string;
  aggregatesOnly?: boolean;
}): ReplayFrom | undefined {
  const given = [options.fromBeginning === true, options.fromTimestamp !== undefined, options.fromOffsets !== undefined].filter(Boolean).length;
  if (options.aggregatesOnly === true) {
    if (given > 0) throw new ConfigError('--aggregates-only rebuilds the aggregates without a replay: give no --from-…');
    return undefined;
  }
  if (given !== 1)
    throw new ConfigError('give one of --from-beginning, --from-timestamp <time>, --from-offsets <partition:offset,…> or --aggregates-only');
  if (options.fromBeginning === true) return { kind: 'beginning' };
  if (options.fromTimestamp !== undefined) {
    const ms = Date.parse(options.fromTimestamp);
    if (Number.isNaN(ms)) throw new ConfigError(`--from-timestamp ${options.fromTimestamp} is not an ISO-8601 time`);
    return { kind: 'timestamp', ms };
  }
  const offsets = new Map<number, bigint>();
  for (const item of options.fromOffsets!.split(',')) {
    const match = /^\s*(\d+):(\d+)\s*$/.exec(item);
    if (match === null) throw new ConfigError(`--from-offsets: ${item} is not partition:offset`);
    offsets.set(Number(match[1]), BigInt(match[2]!));
  }
  return { kind: 'offsets', offsets };
}

/** `kelt replay`: aggregates rebuilt and the transform run again over the loaded topic. */
export function replayCommand(program: Command): void {
  program
    .command('replay')
    .description('rebuild every aggregate from its model table and re-run the transform over <p>.loaded (the transform group must have no members)')
    .addOption(pipelineOption())
    .option('--from-beginning', 'from the start of the loaded topic')
    .option('--from-timestamp <time>', 'from an ISO-8601 time (the first offsets at or after it)')
    .option('--from-offsets <list>', 'from offsets per partition (0:120,1:98)')
    .option(
      '--aggregates-only',
      'only rebuild the aggregates from their model tables (after a definition changed, or a migrate from kelt before views)',
    )
    .option('--reset-only', 'rebuild and reset the group, and leave the replay to the transform Deployment')
    .action(
      async (options: {
        pipeline: string;
        fromBeginning?: boolean;
        fromTimestamp?: string;
        fromOffsets?: string;
        aggregatesOnly?: boolean;
        resetOnly?: boolean;
      }) => {
        const pipeline = loadPipeline(options.pipeline);
        const connections = connect('replay', { pipeline: pipeline.name });
        await replayTransform(pipeline, connections, replayStart(options), { run: options.resetOnly !== true, say: (line) => console.log(line) });
        process.exit(0);
      },
    );
}

import { Option, type Command } from 'commander';
import { readEnv } from '../../config/env.ts';
import { endpointsFrom } from '../../config/endpoints.ts';
import { formatListing, listDeadLetters, listingJson, showDeadLetter } from '../../dead-letters/dlq-listing.ts';
import { redriveDeadLetters } from '../../dead-letters/dlq-redrive.ts';
import { letterFilter } from '../../dead-letters/letter-filter.ts';
import { ConfigError, StaleBatchError, TransientError } from '../../errors.ts';
import { preflightKafka } from '../../kafka/preflight.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import { connect } from '../../runtime/connections.ts';
import { pipelineOption, positiveInteger } from '../options.ts';

/** `kelt dlq list|show|redrive`: the pipeline's dead letters. */
export function dlqCommand(program: Command): void {
  const dlq = program.command('dlq').description("the pipeline's dead letters (<p>.dlq): list, show one, redrive them into their topics");
  const filterOptions = (command: Command, { times }: { times: 'both' | 'until' }) => {
    command
      .addOption(pipelineOption())
      .option('--reason <reason...>', 'only these reasons (row_rejected, transform_error, …)')
      .option('--stage <stage>', 'only letters of this stage (extract, load, transform)')
      .option('--until <time>', 'only letters that failed at or before this ISO-8601 time');
    if (times === 'both')
      command
        .option('--since <time>', 'only letters that failed at or after this ISO-8601 time')
        .option('--topic <topic>', 'only letters of records from this topic');
    return command;
  };
  type FilterOptions = { pipeline: string; reason?: string[]; stage?: string; since?: string; until?: string; topic?: string };
  /** The pipeline and its connections, once its topics are known to exist (a sentence, not a client's retries, when not). */
  const dlqConnections = async (specPath: string) => {
    const pipeline = loadPipeline(specPath);
    const connections = connect('dlq', { pipeline: pipeline.name });
    await preflightKafka(endpointsFrom(readEnv()), Object.values(pipeline.topics), pipeline, connections.logger);
    return { pipeline, connections };
  };
  filterOptions(dlq.command('list').description('count the dead letters by stage, reason and state, and list them'), { times: 'both' })
    .addOption(new Option('--limit <count>', 'list at most this many').argParser(positiveInteger).default(50))
    .option('--json', 'print the listing as JSON')
    .action(async (options: FilterOptions & { limit: number; json?: boolean }) => {
      const { pipeline, connections } = await dlqConnections(options.pipeline);
      const listing = await listDeadLetters(pipeline, connections, letterFilter(options), options.limit);
      console.log(options.json ? JSON.stringify(listingJson(listing), null, 2) : formatListing(listing));
      process.exit(0);
    });
  dlq
    .command('show')
    .description('one dead letter in full: its headers, its error and its record, decoded where it decodes')
    .addOption(pipelineOption())
    .argument('<letter>', 'partition@offset in the DLQ, as kelt dlq list prints it')
    .action(async (at: string, options: { pipeline: string }) => {
      const match = /^(\d+)@(\d+)$/.exec(at);
      if (match === null) throw new ConfigError(`${at} is not partition@offset`);
      const { pipeline, connections } = await dlqConnections(options.pipeline);
      const shown = await showDeadLetter(pipeline, connections, Number(match[1]), BigInt(match[2]!));
      if (shown === undefined) throw new ConfigError(`${pipeline.topics.dlq} has no dead letter at ${at}`);
      console.log(shown);
      process.exit(0);
    });
  filterOptions(
    dlq
      .command('redrive')
      .description('produce the chosen dead letters into their original topic again, exactly once (after fixing what refused them)'),
    { times: 'until' },
  ).action(async (options: FilterOptions) => {
    const filter = letterFilter(options);
    const { pipeline, connections } = await dlqConnections(options.pipeline);
    const counts = await redriveDeadLetters(pipeline, connections, filter, (line) => console.log(line)).catch((error: unknown) => {
      // Another redrive fenced this one, or a commit got no answer: what was sent is recorded, so running it again sends the rest once.
      if (!(error instanceof TransientError || error instanceof StaleBatchError)) throw error;
      console.error(`kelt: the redrive stopped (${error.message}); run it again: no letter it sent is sent twice`);
      process.exit(1);
    });
    console.log(
      `redriven ${counts.redriven}; redriven before ${counts.alreadyRedriven}; left for later (after --until) ${counts.leftForLater}; not redrivable ${counts.notRedrivable.length}`,
    );
    for (const { letter, why } of counts.notRedrivable) console.log(`  ${letter}: ${why}`);
    process.exit(0);
  });
}

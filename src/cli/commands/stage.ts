import { Option, type Command } from 'commander';
import { readEnv } from '../../config/env.ts';
import { endpointsFrom } from '../../config/endpoints.ts';
import { serveStage } from '../../http/serve-stage.ts';
import { preflightKafka } from '../../kafka/preflight.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import type { StageName } from '../../pipeline/topology.ts';
import { connect } from '../../runtime/connections.ts';
import { startStage } from '../../stages/start-stage.ts';
import { pipelineOption, positiveInteger } from '../options.ts';
import { serveUntilStopped, watchPartitionCounts } from '../process-lifecycle.ts';

/**
 * Runs a stage until SIGTERM/SIGINT, then drains it within the grace period
 * and exits 0; a topic whose partition count stops matching the spec's drains
 * it and exits 2.
 */
async function runStage(stage: StageName, specPath: string, graceSeconds: number): Promise<void> {
  const pipeline = loadPipeline(specPath);
  const needs = { mysql: stage !== 'extract' };
  const env = readEnv(process.env, needs);
  const connections = connect(stage, { pipeline: pipeline.name, stage }, needs);
  await preflightKafka(endpointsFrom(env), Object.values(pipeline.topics), pipeline, connections.logger);
  const served =
    env.KELT_METRICS === 'on'
      ? await serveStage(stage, pipeline, connections, env)
      : await startStage(stage, pipeline, connections).then((running) => ({ running, stop: () => running.stop() }));
  const watch = watchPartitionCounts(pipeline, Object.values(pipeline.topics), connections, env.KELT_PARTITION_CHECK_SECONDS);
  await serveUntilStopped({
    logger: connections.logger,
    graceSeconds,
    failed: served.running.runner.failed(),
    misconfigured: watch.mismatch(),
    notReady: (reason) => served.running.runner.faults.fault('topics', reason),
    drain: async () => {
      await served.stop();
      await watch.stop();
    },
  });
}

/** `kelt extract|load|transform`: a stage as a member of its group. */
export function stageCommands(program: Command): void {
  for (const [stage, what] of [
    ['extract', `decode and validate <p>.raw, re-key, produce to <p>.extracted`],
    ['load', 'upsert <p>.extracted into the staging table, forward to <p>.loaded'],
    ['transform', "run the pipeline's transform on <p>.loaded, upsert the model tables"],
  ] as const) {
    program
      .command(stage)
      .description(`run the ${stage} stage: ${what}`)
      .addOption(pipelineOption())
      .addOption(
        new Option('--grace <seconds>', 'on SIGTERM/SIGINT, finish in-flight batches within this time').argParser(positiveInteger).default(30),
      )
      .action(({ pipeline, grace }: { pipeline: string; grace: number }) => runStage(stage, pipeline, grace));
  }
}

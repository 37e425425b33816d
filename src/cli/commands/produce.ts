import { extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { readEnv } from '../../config/env.ts';
import { endpointsFrom } from '../../config/endpoints.ts';
import { ConfigError } from '../../errors.ts';
import { preflightKafka } from '../../kafka/preflight.ts';
import { loadPipeline, type Pipeline } from '../../pipeline/spec.ts';
import { csvEvents, generatedEvents, ndjsonEvents, type Event } from '../../produce/event-source.ts';
import { produceEvents } from '../../produce/produce.ts';
import { connect } from '../../runtime/connections.ts';
import { pipelineOption, positiveInteger } from '../options.ts';

function eventsFrom(pipeline: Pipeline, options: { file?: string; generate?: number }): AsyncIterable<Event> {
  if (options.file !== undefined && options.generate !== undefined) {
    throw new ConfigError('give either --file or --generate, not both');
  }
  if (options.generate !== undefined) {
    if (pipeline.source.generatorPath === undefined) {
      throw new ConfigError(`pipeline ${pipeline.name} declares no source.generator, so --generate has nothing to run`);
    }
    return generatedEvents(pipeline.source.generatorPath, options.generate);
  }
  if (options.file === undefined) throw new ConfigError('give --file <events.ndjson|events.csv> or --generate <count>');
  return extname(options.file).toLowerCase() === '.csv' ? csvEvents(options.file, pipeline.source.schema) : ndjsonEvents(options.file);
}

/** `kelt produce`: events from a file or the generator onto the raw topic. */
export function produceCommand(program: Command): void {
  program
    .command('produce')
    .description("put events on the pipeline's raw topic: from an NDJSON or CSV file, or generated samples")
    .addOption(pipelineOption())
    .option('-f, --file <path>', 'events, one JSON object per line (.ndjson) or CSV with a header row (.csv)')
    .option('-g, --generate <count>', "that many sample events from the pipeline's generator", positiveInteger)
    .option('-r, --rate <eventsPerSecond>', 'produce at most this many events per second', positiveInteger)
    .action(async (options: { pipeline: string; file?: string; generate?: number; rate?: number }) => {
      const pipeline = loadPipeline(options.pipeline);
      const connections = connect('produce', { pipeline: pipeline.name }, { mysql: false });
      await preflightKafka(endpointsFrom(readEnv(process.env, { mysql: false })), [pipeline.topics.raw], pipeline, connections.logger);
      const events = eventsFrom(pipeline, options);
      const bar = process.stderr.isTTY
        ? new SingleBar({ format: 'produce [{bar}] {value}/{total} events  {eta_formatted} left', stream: process.stderr })
        : undefined;
      bar?.start(options.generate ?? 0, 0);
      const started = performance.now();
      const sent = await produceEvents(pipeline, events, connections, {
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        onProgress: (count) => bar?.update(count),
      });
      bar?.stop();
      const seconds = (performance.now() - started) / 1000;
      console.log(`produced ${sent} events to ${pipeline.topics.raw} in ${seconds.toFixed(1)}s (${Math.round(sent / seconds)}/s)`);
    });
}

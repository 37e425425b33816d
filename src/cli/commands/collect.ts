import { Option, type Command } from 'commander';
import { serveCollector } from '../../collect/serve-collector.ts';
import { collectorTokens, readEnv } from '../../config/env.ts';
import { endpointsFrom } from '../../config/endpoints.ts';
import { preflightKafka } from '../../kafka/preflight.ts';
import { registerSecrets } from '../../log/redact.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import { connect } from '../../runtime/connections.ts';
import { pipelineOption, positiveInteger } from '../options.ts';
import { serveUntilStopped, watchPartitionCounts } from '../process-lifecycle.ts';

interface CollectOptions {
  pipeline: string;
  grace: number;
  maxBodyBytes: number;
  maxEvents: number;
  maxBuffered: number;
  maxBufferedBytes: number;
  ackTimeout: number;
  corsOrigin: string[];
}

/** Runs the HTTP collector until SIGTERM/SIGINT (or its topic's partitions change), then answers what is in flight, flushes to Kafka and exits. */
async function runCollector(options: CollectOptions): Promise<void> {
  const pipeline = loadPipeline(options.pipeline);
  const env = readEnv(process.env, { mysql: false });
  const tokens = collectorTokens(env);
  registerSecrets(tokens);
  const connections = connect('collect', { pipeline: pipeline.name, stage: 'collect' }, { mysql: false });
  await preflightKafka(endpointsFrom(env), [pipeline.topics.raw], pipeline, connections.logger);
  const collector = await serveCollector(pipeline, connections, {
    host: env.KELT_HTTP_HOST,
    port: env.KELT_HTTP_PORT,
    maxBodyBytes: options.maxBodyBytes,
    maxEventsPerRequest: options.maxEvents,
    maxBufferedEvents: options.maxBuffered,
    maxBufferedBytes: options.maxBufferedBytes,
    ackTimeoutMs: options.ackTimeout * 1000,
    tokens,
    corsOrigins: options.corsOrigin,
  });
  const watch = watchPartitionCounts(pipeline, [pipeline.topics.raw], connections, env.KELT_PARTITION_CHECK_SECONDS);
  await serveUntilStopped({
    logger: connections.logger,
    graceSeconds: options.grace,
    misconfigured: watch.mismatch(),
    notReady: (reason) => collector.notReady(reason),
    drain: async () => {
      await collector.stop(options.grace * 500);
      await watch.stop();
    },
  });
}

/** `kelt collect`: the HTTP collector in front of the raw topic. */
export function collectCommand(program: Command): void {
  program
    .command('collect')
    .description(
      "take events over HTTP (POST /events: a JSON event, a JSON array or NDJSON) into the pipeline's raw topic; each answered accepted once Kafka has it",
    )
    .addOption(pipelineOption())
    .addOption(
      new Option('--grace <seconds>', 'on SIGTERM/SIGINT, answer the requests in flight within this time').argParser(positiveInteger).default(30),
    )
    .addOption(new Option('--max-body-bytes <bytes>', 'a larger request body is refused (413)').argParser(positiveInteger).default(1_048_576))
    .addOption(new Option('--max-events <count>', 'events per request, at most (413 beyond)').argParser(positiveInteger).default(10_000))
    .addOption(
      new Option('--max-buffered <count>', 'events waiting for Kafka, at most; requests beyond are answered 429')
        .argParser(positiveInteger)
        .default(50_000),
    )
    .addOption(
      new Option(
        '--max-buffered-bytes <bytes>',
        'bytes of request bodies held at once across requests; beyond, 429 (a parsed body takes ~20× its bytes)',
      )
        .argParser(positiveInteger)
        .default(8_388_608),
    )
    .addOption(
      new Option('--ack-timeout <seconds>', "a request waits this long for Kafka's acknowledgement before it is answered 503")
        .argParser(positiveInteger)
        .default(10),
    )
    .option('--cors-origin <origin...>', 'origins browsers may post from (* for any); bearer tokens come from KELT_COLLECT_TOKENS', [])
    .action((options: CollectOptions) => runCollector(options));
}

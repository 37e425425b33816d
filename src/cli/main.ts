#!/usr/bin/env node
import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { collectorTokens, endpointsFrom, readEnv } from '../config/env.ts';
import { serveCollector } from '../collect/serve-collector.ts';
import { registerSecrets } from '../log/redact.ts';
import { ConfigError, KeltError, StaleBatchError, TransientError } from '../errors.ts';
import { preflightKafka } from '../kafka/preflight.ts';
import { migrate } from '../migrate/migrate.ts';
import { loadPipeline, type Pipeline } from '../pipeline/spec.ts';
import { csvEvents, generatedEvents, ndjsonEvents, type Event } from '../produce/event-source.ts';
import { produceEvents } from '../produce/produce.ts';
import { connect, type Connections } from '../runtime/connections.ts';
import { PartitionCountWatch } from '../runtime/partition-count-watch.ts';
import { serveUntilStopped } from './process-lifecycle.ts';
import { projectFile } from '../runtime/project-files.ts';
import { serveStage } from '../http/serve-stage.ts';
import { startStage } from '../stages/start-stage.ts';
import { replayTransform } from '../replay/replay-command.ts';
import type { ReplayFrom } from '../replay/transform-replay.ts';
import { formatStatus, pipelineStatus } from '../status/pipeline-status.ts';
import { formatListing, listDeadLetters, listingJson, showDeadLetter } from '../dead-letters/dlq-listing.ts';
import { redriveDeadLetters } from '../dead-letters/dlq-redrive.ts';
import { letterFilter } from '../dead-letters/letter-filter.ts';
import type { StageName } from '../pipeline/topology.ts';
import { accessRoles, formatAcls, pipelineAcls, type AccessRole } from '../access/pipeline-acls.ts';

const { version, description } = JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string; description: string };

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

const pipelineOption = () => new Option('-p, --pipeline <file>', 'the pipeline spec (YAML)').makeOptionMandatory();

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

function watchPartitionCounts(pipeline: Pipeline, topics: string[], connections: Connections, intervalSeconds: number): PartitionCountWatch {
  const watch = new PartitionCountWatch({
    kafka: connections.kafka,
    topics,
    partitions: pipeline.partitions,
    specPath: pipeline.specPath,
    logger: connections.logger,
  });
  watch.start(intervalSeconds * 1000);
  return watch;
}

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

export function buildProgram(): Command {
  const program = new Command('kelt')
    .description(description)
    .version(version)
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Connection settings come from the environment:
  KELT_KAFKA_BROKERS        host:port[,host:port…]
  KELT_SCHEMA_REGISTRY_URL  http(s)://host:port of a Confluent-compatible registry
  KELT_MYSQL_URL            mysql://user:password@host:port/database
  KELT_LOG_LEVEL            fatal|error|warn|info|debug|trace|silent (default info)
  KELT_HTTP_HOST, KELT_HTTP_PORT   a stage's /metrics, /healthz, /readyz (default 127.0.0.1:9464)
  KELT_METRICS                     on|off: a stage's HTTP port and metrics (default on)
  KELT_COLLECT_TOKENS              kelt collect: bearer tokens a request must carry (comma-separated; or KELT_COLLECT_TOKENS_FILE)
  KELT_LAG_INTERVAL_SECONDS        how often a stage refreshes its consumer-lag gauge (default 10)
  KELT_LIVENESS_TIMEOUT_SECONDS    /healthz fails after the consumer loop is silent this long (default 60)
  KELT_PARTITION_CHECK_SECONDS     how often a stage or the collector compares its topics' partition counts with the spec's (default 30)
'scripts/stack up' starts a local stack and prints these.`,
    );

  program
    .command('validate')
    .description('check a pipeline spec without connecting to anything')
    .argument('<file>', 'the pipeline spec (YAML)')
    .action((file: string) => {
      console.log(`${describePipeline(loadPipeline(file))}\nvalid`);
    });

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

  program
    .command('acls')
    .description('the Kafka ACLs each role of the pipeline needs (each stage, migrate, produce); --apply grants them')
    .addOption(pipelineOption())
    .option('--principal-prefix <prefix>', 'a role runs as <prefix><role> (User:kelt-extract…)', 'User:kelt-')
    .addOption(new Option('--role <role>', 'only this role').choices(accessRoles))
    .option('--apply', 'grant them on the cluster (as the environment’s Kafka user, which needs ALTER on the cluster)')
    .option('--json', 'print them as JSON')
    .action(async (options: { pipeline: string; principalPrefix: string; role?: AccessRole; apply?: boolean; json?: boolean }) => {
      const pipeline = loadPipeline(options.pipeline);
      const roles = options.role === undefined ? accessRoles : [options.role];
      const rules = roles.flatMap((role) => pipelineAcls(pipeline, role, (of) => `${options.principalPrefix}${of}`));
      console.log(options.json ? JSON.stringify(rules, null, 2) : formatAcls(rules));
      if (options.apply !== true) return;
      const { kafka } = connect('acls', { pipeline: pipeline.name }, { mysql: false });
      const admin = await openClusterAdmin(kafka);
      try {
        await admin.createAcls(rules);
        console.error(`granted ${rules.length} ACLs`);
      } finally {
        await admin.close();
      }
    });

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
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // Known errors are the user's to fix: their message says what, without a library's stack trace.
  if (error instanceof KeltError && !error.retriable) {
    console.error(`kelt: ${error.message}`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
  throw error;
}

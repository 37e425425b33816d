#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, KeltError } from '../errors.ts';
import { projectFile } from '../runtime/project-files.ts';
import { aclsCommand } from './commands/acls.ts';
import { collectCommand } from './commands/collect.ts';
import { dlqCommand } from './commands/dlq.ts';
import { migrateCommand } from './commands/migrate.ts';
import { produceCommand } from './commands/produce.ts';
import { replayCommand } from './commands/replay.ts';
import { stageCommands } from './commands/stage.ts';
import { statusCommand } from './commands/status.ts';
import { validateCommand } from './commands/validate.ts';

const { version, description } = JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string; description: string };

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

  for (const register of [
    validateCommand,
    migrateCommand,
    produceCommand,
    statusCommand,
    aclsCommand,
    replayCommand,
    dlqCommand,
    collectCommand,
    stageCommands,
  ]) {
    register(program);
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

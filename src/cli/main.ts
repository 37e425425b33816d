#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

const { version, description } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string; description: string };

export function buildProgram(): Command {
  return new Command('kelt')
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
'scripts/stack up' starts a local stack and prints these.`,
    );
}

await buildProgram().parseAsync(process.argv);

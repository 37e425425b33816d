import type { TestProject } from 'vitest/node';
import type { Endpoints } from '../../src/config/env.ts';
import { installTools, localStack, type Tools } from '../../scripts/stack-script.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
    tools: Tools;
  }
}

/** Endpoints given by the caller: all three KELT_* variables set means "use these, start nothing". */
function givenEndpoints(): Endpoints | undefined {
  const { KELT_KAFKA_BROKERS, KELT_SCHEMA_REGISTRY_URL, KELT_MYSQL_URL } = process.env;
  if (!KELT_KAFKA_BROKERS || !KELT_SCHEMA_REGISTRY_URL || !KELT_MYSQL_URL) return undefined;
  return {
    kafkaBrokers: KELT_KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    schemaRegistryUrl: KELT_SCHEMA_REGISTRY_URL,
    mysqlUrl: KELT_MYSQL_URL,
  };
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('endpoints', givenEndpoints() ?? (await localStack()));
  project.provide('tools', await installTools());
}

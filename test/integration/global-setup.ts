import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { Endpoints } from '../../src/config/env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
  }
}

const stackScript = fileURLToPath(new URL('../../scripts/stack', import.meta.url));

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

/** Brings the local stack up (a no-op when it runs) and reads the endpoints it prints. */
function localStack(): Promise<Endpoints> {
  return new Promise((resolve, reject) => {
    const child = spawn(stackScript, ['up'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`scripts/stack up exited with ${code}`));
      const vars = Object.fromEntries(
        stdout
          .split('\n')
          .map((line) => /^(KELT_[A-Z_]+)=(.*)$/.exec(line.trim()))
          .filter((match): match is RegExpExecArray => match !== null)
          .map((match) => [match[1], match[2]]),
      );
      resolve({
        kafkaBrokers: String(vars.KELT_KAFKA_BROKERS).split(','),
        schemaRegistryUrl: String(vars.KELT_SCHEMA_REGISTRY_URL),
        mysqlUrl: String(vars.KELT_MYSQL_URL),
      });
    });
  });
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('endpoints', givenEndpoints() ?? (await localStack()));
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readEnv } from '../src/config/env.ts';
import { endpointsFrom, type Endpoints } from '../src/config/endpoints.ts';

/**
 * Runs one of the project's scripts (`stack`, `kube`, `docker-engine`) and
 * returns the variables it prints (NAME=value lines: KELT_*, KUBECONFIG,
 * DOCKER_HOST).
 */
export function runScript(script: 'stack' | 'kube' | 'kube-node' | 'docker-engine', args: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(fileURLToPath(new URL(`./${script}`, import.meta.url)), args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`scripts/${script} ${args.join(' ')} exited with ${code}`));
      resolve(
        Object.fromEntries(
          stdout
            .split('\n')
            .map((line) => /^(KELT_[A-Z0-9_]+|KUBECONFIG|DOCKER_HOST)=(.*)$/.exec(line.trim()))
            .filter((match): match is RegExpExecArray => match !== null)
            .map((match) => [match[1]!, match[2]!]),
        ),
      );
    });
  });
}

/** Runs `scripts/stack <args>` and returns the variables it prints. */
export const runStack = (args: string[]): Promise<Record<string, string>> => runScript('stack', args);

/** Brings the local stack up (a no-op when it runs) and returns the endpoints it prints. */
export async function localStack(): Promise<Endpoints> {
  return endpointsFrom(readEnv(await runStack(['up'])));
}

/**
 * The endpoints to run against: the caller's, when KELT_KAFKA_BROKERS,
 * KELT_SCHEMA_REGISTRY_URL and KELT_MYSQL_URL are all set (nothing is
 * started), else the local stack's, brought up if it is not running.
 */
export async function givenOrLocalStack(): Promise<Endpoints> {
  const { KELT_KAFKA_BROKERS, KELT_SCHEMA_REGISTRY_URL, KELT_MYSQL_URL } = process.env;
  if (KELT_KAFKA_BROKERS && KELT_SCHEMA_REGISTRY_URL && KELT_MYSQL_URL) return endpointsFrom(readEnv());
  return localStack();
}

/** Paths of the tools `scripts/stack tools` installs. */
export interface Tools {
  prometheus: string;
  promtool: string;
  helm: string;
  /** Kafka's jars (its Java clients included). */
  kafkaLibs: string;
}

export async function installTools(): Promise<Tools> {
  const vars = await runStack(['tools']);
  return { prometheus: vars.KELT_PROMETHEUS!, promtool: vars.KELT_PROMTOOL!, helm: vars.KELT_HELM!, kafkaLibs: vars.KELT_KAFKA_LIBS! };
}

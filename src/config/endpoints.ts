import type { Env } from './env.ts';

/**
 * The endpoints a process connects to (Kafka, the registry, MySQL, with
 * their TLS and SASL settings), as read from the environment, and back into
 * it for the processes kelt starts (tests, the demo, the bench).
 */
/** Files for a TLS connection: a private CA's certificate, and a client certificate and its key (mutual TLS). */
export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  /** The token is obtained again whenever the client authenticates: re-read from the file, or printed by the command. */
  | { mechanism: 'oauthbearer'; tokenFile?: string; tokenCommand?: string };

/** The endpoints a kelt process talks to, and how it authenticates to them. */
export interface Endpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  /** Absent where the process never opens MySQL (the collector, extract). */
  mysqlUrl?: string;
  kafkaTls?: TlsFiles;
  kafkaSasl?: KafkaSasl;
  /** Clear-text SASL allowed by name (KELT_KAFKA_SASL_ALLOW_PLAINTEXT). */
  kafkaSaslPlaintext?: true;
  registryAuth?: { username: string; password: string };
  registryTls?: TlsFiles;
  mysqlTls?: TlsFiles;
}

/**
 * The variables that hold a secret, each of which may instead name a file
 * holding it (`<NAME>_FILE`, as Kubernetes mounts a Secret): a value in the
 * environment is visible to anything that can read the process's
 * environment, a file only to what may read the file.
 */

const tlsVariables = (prefix: 'KELT_KAFKA_TLS' | 'KELT_MYSQL_TLS' | 'KELT_SCHEMA_REGISTRY') =>
  [
    ['caFile', `${prefix}_CA_FILE`],
    ['certFile', `${prefix}_CERT_FILE`],
    ['keyFile', `${prefix}_KEY_FILE`],
  ] as const;

function tlsFiles(env: Env, prefix: 'KELT_KAFKA_TLS' | 'KELT_MYSQL_TLS' | 'KELT_SCHEMA_REGISTRY'): TlsFiles {
  const files: TlsFiles = {};
  for (const [field, name] of tlsVariables(prefix)) if (env[name] !== undefined) files[field] = env[name];
  return files;
}

function tlsEnv(files: TlsFiles | undefined, prefix: 'KELT_KAFKA_TLS' | 'KELT_MYSQL_TLS' | 'KELT_SCHEMA_REGISTRY'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, name] of tlsVariables(prefix)) if (files?.[field] !== undefined) out[name] = files[field];
  return out;
}

function saslOf(env: Env): KafkaSasl | undefined {
  const mechanism = env.KELT_KAFKA_SASL_MECHANISM;
  if (mechanism === 'oauthbearer') {
    return {
      mechanism,
      ...(env.KELT_KAFKA_OAUTH_TOKEN_FILE === undefined ? {} : { tokenFile: env.KELT_KAFKA_OAUTH_TOKEN_FILE }),
      ...(env.KELT_KAFKA_OAUTH_TOKEN_COMMAND === undefined ? {} : { tokenCommand: env.KELT_KAFKA_OAUTH_TOKEN_COMMAND }),
    };
  }
  if (mechanism === undefined || env.KELT_KAFKA_SASL_USERNAME === undefined || env.KELT_KAFKA_SASL_PASSWORD === undefined) return undefined;
  return { mechanism, username: env.KELT_KAFKA_SASL_USERNAME, password: env.KELT_KAFKA_SASL_PASSWORD };
}

export function endpointsFrom(env: Env): Endpoints {
  const sasl = saslOf(env);
  const registryTls = tlsFiles(env, 'KELT_SCHEMA_REGISTRY');
  return {
    kafkaBrokers: env.KELT_KAFKA_BROKERS,
    schemaRegistryUrl: env.KELT_SCHEMA_REGISTRY_URL,
    ...(env.KELT_MYSQL_URL === undefined ? {} : { mysqlUrl: env.KELT_MYSQL_URL }),
    ...(env.KELT_KAFKA_TLS ? { kafkaTls: tlsFiles(env, 'KELT_KAFKA_TLS') } : {}),
    ...(sasl === undefined ? {} : { kafkaSasl: sasl }),
    ...(env.KELT_KAFKA_SASL_ALLOW_PLAINTEXT ? { kafkaSaslPlaintext: true as const } : {}),
    ...(env.KELT_SCHEMA_REGISTRY_USERNAME !== undefined && env.KELT_SCHEMA_REGISTRY_PASSWORD !== undefined
      ? { registryAuth: { username: env.KELT_SCHEMA_REGISTRY_USERNAME, password: env.KELT_SCHEMA_REGISTRY_PASSWORD } }
      : {}),
    ...(Object.keys(registryTls).length > 0 ? { registryTls } : {}),
    ...(env.KELT_MYSQL_TLS ? { mysqlTls: tlsFiles(env, 'KELT_MYSQL_TLS') } : {}),
  };
}

/**
 * The KELT_* variables that give a child process these endpoints (the
 * inverse of endpointsFrom, for the demo, the benchmark and the tests that
 * run stages as processes).
 */
export function envOf(endpoints: Endpoints): Record<string, string> {
  const sasl = endpoints.kafkaSasl;
  return {
    KELT_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    KELT_SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    ...(endpoints.mysqlUrl === undefined ? {} : { KELT_MYSQL_URL: endpoints.mysqlUrl }),
    ...(endpoints.kafkaTls === undefined ? {} : { KELT_KAFKA_TLS: 'true', ...tlsEnv(endpoints.kafkaTls, 'KELT_KAFKA_TLS') }),
    ...(sasl === undefined
      ? {}
      : sasl.mechanism === 'oauthbearer'
        ? {
            KELT_KAFKA_SASL_MECHANISM: sasl.mechanism,
            ...(sasl.tokenFile === undefined ? {} : { KELT_KAFKA_OAUTH_TOKEN_FILE: sasl.tokenFile }),
            ...(sasl.tokenCommand === undefined ? {} : { KELT_KAFKA_OAUTH_TOKEN_COMMAND: sasl.tokenCommand }),
          }
        : { KELT_KAFKA_SASL_MECHANISM: sasl.mechanism, KELT_KAFKA_SASL_USERNAME: sasl.username, KELT_KAFKA_SASL_PASSWORD: sasl.password }),
    ...(endpoints.kafkaSaslPlaintext === true ? { KELT_KAFKA_SASL_ALLOW_PLAINTEXT: 'true' } : {}),
    ...(endpoints.registryAuth === undefined
      ? {}
      : { KELT_SCHEMA_REGISTRY_USERNAME: endpoints.registryAuth.username, KELT_SCHEMA_REGISTRY_PASSWORD: endpoints.registryAuth.password }),
    ...tlsEnv(endpoints.registryTls, 'KELT_SCHEMA_REGISTRY'),
    ...(endpoints.mysqlTls === undefined ? {} : { KELT_MYSQL_TLS: 'true', ...tlsEnv(endpoints.mysqlTls, 'KELT_MYSQL_TLS') }),
  };
}

/** The passwords in these endpoints, as given and as a URL decodes them: for redaction wherever they might appear. */
export function secretsOf(endpoints: Endpoints): string[] {
  const secrets: string[] = [];
  if (endpoints.kafkaSasl !== undefined && endpoints.kafkaSasl.mechanism !== 'oauthbearer') secrets.push(endpoints.kafkaSasl.password);
  if (endpoints.registryAuth !== undefined) secrets.push(endpoints.registryAuth.password);
  for (const url of [endpoints.mysqlUrl, endpoints.schemaRegistryUrl]) {
    if (url === undefined || !URL.canParse(url)) continue;
    const { password } = new URL(url);
    if (password !== '') secrets.push(password, decodeURIComponent(password));
  }
  return secrets;
}

/** A URL fit for logs: its password replaced. */
export function redactUrl(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/**
 * Connection settings, from the environment. Declared once here, validated at
 * start-up; a bad value ends the process with a message naming the variable.
 */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const brokerList = z
  .string()
  .trim()
  .min(1, 'must list at least one broker as host:port[,host:port…]')
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker !== ''),
  )
  .refine((brokers) => brokers.every((broker) => /^[^\s:]+:\d{1,5}$/.test(broker)), {
    message: 'each broker must be host:port',
  });

const mysqlUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && new URL(value).protocol === 'mysql:', {
    message: 'must be a mysql://user:password@host:port/database URL',
  })
  .refine((value) => !URL.canParse(value) || new URL(value).pathname.length > 1, {
    message: 'must name the database in its path (mysql://…/database)',
  });

const httpUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: 'must be an http:// or https:// URL',
  });

const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true');
const optionalText = z.string().trim().min(1).optional();

export const envSchema = z
  .object({
    KELT_KAFKA_BROKERS: brokerList,
    KELT_SCHEMA_REGISTRY_URL: httpUrl,
    KELT_MYSQL_URL: mysqlUrl,
    // Kafka security: TLS (with a CA file for a private CA) and SASL.
    KELT_KAFKA_TLS: flag,
    KELT_KAFKA_TLS_CA_FILE: optionalText,
    KELT_KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    KELT_KAFKA_SASL_USERNAME: optionalText,
    KELT_KAFKA_SASL_PASSWORD: optionalText,
    // Registry basic auth (Confluent Cloud: API key and secret).
    KELT_SCHEMA_REGISTRY_USERNAME: optionalText,
    KELT_SCHEMA_REGISTRY_PASSWORD: optionalText,
    // MySQL over TLS; the server's certificate is always verified.
    KELT_MYSQL_TLS: flag,
    KELT_MYSQL_TLS_CA_FILE: optionalText,
    KELT_LOG_LEVEL: z.enum(logLevels).default('info'),
    // A stage's HTTP port (/metrics, /healthz, /readyz). Loopback by default;
    // a container sets 0.0.0.0 so that probes and scrapes reach it.
    KELT_HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
    KELT_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
    // off: no HTTP port, no metrics (for measuring what instrumentation costs).
    KELT_METRICS: z.enum(['on', 'off']).default('on'),
    KELT_LAG_INTERVAL_SECONDS: z.coerce.number().positive().default(10),
    KELT_LIVENESS_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
  })
  .superRefine((env, context) => {
    const sasl = [env.KELT_KAFKA_SASL_MECHANISM, env.KELT_KAFKA_SASL_USERNAME, env.KELT_KAFKA_SASL_PASSWORD];
    if (sasl.some((value) => value !== undefined) && sasl.some((value) => value === undefined)) {
      for (const [name, value] of [
        ['KELT_KAFKA_SASL_MECHANISM', env.KELT_KAFKA_SASL_MECHANISM],
        ['KELT_KAFKA_SASL_USERNAME', env.KELT_KAFKA_SASL_USERNAME],
        ['KELT_KAFKA_SASL_PASSWORD', env.KELT_KAFKA_SASL_PASSWORD],
      ] as const) {
        if (value === undefined) context.addIssue({ code: 'custom', path: [name], message: 'SASL needs a mechanism, a username and a password' });
      }
    }
    if ((env.KELT_SCHEMA_REGISTRY_USERNAME === undefined) !== (env.KELT_SCHEMA_REGISTRY_PASSWORD === undefined)) {
      const missing = env.KELT_SCHEMA_REGISTRY_USERNAME === undefined ? 'KELT_SCHEMA_REGISTRY_USERNAME' : 'KELT_SCHEMA_REGISTRY_PASSWORD';
      context.addIssue({ code: 'custom', path: [missing], message: 'registry basic auth needs both a username and a password' });
    }
    for (const [file, enabled, name] of [
      ['KELT_KAFKA_TLS_CA_FILE', env.KELT_KAFKA_TLS, 'KELT_KAFKA_TLS'],
      ['KELT_MYSQL_TLS_CA_FILE', env.KELT_MYSQL_TLS, 'KELT_MYSQL_TLS'],
    ] as const) {
      if (env[file] !== undefined && !enabled) context.addIssue({ code: 'custom', path: [file], message: `is set but ${name} is not true` });
    }
  });

export type Env = z.infer<typeof envSchema>;
export type LogLevel = (typeof logLevels)[number];

/** The endpoints a kelt process talks to, and how it authenticates to them. */
export interface Endpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  mysqlUrl: string;
  kafkaTls?: { caFile?: string };
  kafkaSasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  registryAuth?: { username: string; password: string };
  mysqlTls?: { caFile?: string };
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return issue.code === 'invalid_type' && source[name] === undefined ? `${name}: is not set` : `${name}: ${issue.message}`;
    });
    throw new ConfigError('invalid environment', issues);
  }
  return parsed.data;
}

const caFile = (file: string | undefined) => (file === undefined ? {} : { caFile: file });

export function endpointsFrom(env: Env): Endpoints {
  return {
    kafkaBrokers: env.KELT_KAFKA_BROKERS,
    schemaRegistryUrl: env.KELT_SCHEMA_REGISTRY_URL,
    mysqlUrl: env.KELT_MYSQL_URL,
    ...(env.KELT_KAFKA_TLS ? { kafkaTls: caFile(env.KELT_KAFKA_TLS_CA_FILE) } : {}),
    ...(env.KELT_KAFKA_SASL_MECHANISM !== undefined && env.KELT_KAFKA_SASL_USERNAME !== undefined && env.KELT_KAFKA_SASL_PASSWORD !== undefined
      ? { kafkaSasl: { mechanism: env.KELT_KAFKA_SASL_MECHANISM, username: env.KELT_KAFKA_SASL_USERNAME, password: env.KELT_KAFKA_SASL_PASSWORD } }
      : {}),
    ...(env.KELT_SCHEMA_REGISTRY_USERNAME !== undefined && env.KELT_SCHEMA_REGISTRY_PASSWORD !== undefined
      ? { registryAuth: { username: env.KELT_SCHEMA_REGISTRY_USERNAME, password: env.KELT_SCHEMA_REGISTRY_PASSWORD } }
      : {}),
    ...(env.KELT_MYSQL_TLS ? { mysqlTls: caFile(env.KELT_MYSQL_TLS_CA_FILE) } : {}),
  };
}

/**
 * The KELT_* variables that give a child process these endpoints (the
 * inverse of endpointsFrom, for the demo, the benchmark and the tests that
 * run stages as processes).
 */
export function envOf(endpoints: Endpoints): Record<string, string> {
  return {
    KELT_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    KELT_SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    KELT_MYSQL_URL: endpoints.mysqlUrl,
    ...(endpoints.kafkaTls === undefined
      ? {}
      : { KELT_KAFKA_TLS: 'true', ...(endpoints.kafkaTls.caFile === undefined ? {} : { KELT_KAFKA_TLS_CA_FILE: endpoints.kafkaTls.caFile }) }),
    ...(endpoints.kafkaSasl === undefined
      ? {}
      : {
          KELT_KAFKA_SASL_MECHANISM: endpoints.kafkaSasl.mechanism,
          KELT_KAFKA_SASL_USERNAME: endpoints.kafkaSasl.username,
          KELT_KAFKA_SASL_PASSWORD: endpoints.kafkaSasl.password,
        }),
    ...(endpoints.registryAuth === undefined
      ? {}
      : { KELT_SCHEMA_REGISTRY_USERNAME: endpoints.registryAuth.username, KELT_SCHEMA_REGISTRY_PASSWORD: endpoints.registryAuth.password }),
    ...(endpoints.mysqlTls === undefined
      ? {}
      : { KELT_MYSQL_TLS: 'true', ...(endpoints.mysqlTls.caFile === undefined ? {} : { KELT_MYSQL_TLS_CA_FILE: endpoints.mysqlTls.caFile }) }),
  };
}

/** A URL fit for logs: its password replaced. */
export function redactUrl(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

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
  .transform((value) => value.split(',').map((broker) => broker.trim()).filter((broker) => broker !== ''))
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

export const envSchema = z.object({
  KELT_KAFKA_BROKERS: brokerList,
  KELT_SCHEMA_REGISTRY_URL: httpUrl,
  KELT_MYSQL_URL: mysqlUrl,
  KELT_LOG_LEVEL: z.enum(logLevels).default('info'),
  // A stage's HTTP port (/metrics, /healthz, /readyz). Loopback by default;
  // a container sets 0.0.0.0 so that probes and scrapes reach it.
  KELT_HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  KELT_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  KELT_LAG_INTERVAL_SECONDS: z.coerce.number().positive().default(10),
  KELT_LIVENESS_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
});

export type Env = z.infer<typeof envSchema>;
export type LogLevel = (typeof logLevels)[number];

/** The endpoints a kelt process talks to. */
export interface Endpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  mysqlUrl: string;
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return issue.code === 'invalid_type' && source[name] === undefined
        ? `${name}: is not set`
        : `${name}: ${issue.message}`;
    });
    throw new ConfigError('invalid environment', issues);
  }
  return parsed.data;
}

export function endpointsFrom(env: Env): Endpoints {
  return {
    kafkaBrokers: env.KELT_KAFKA_BROKERS,
    schemaRegistryUrl: env.KELT_SCHEMA_REGISTRY_URL,
    mysqlUrl: env.KELT_MYSQL_URL,
  };
}

/** A URL fit for logs: its password replaced. */
export function redactUrl(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

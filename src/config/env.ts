import { readFileSync } from 'node:fs';
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

/**
 * Settings a MySQL URL's query may carry in other clients, each refused by
 * name with the variable that sets it here: a `?ssl-mode=REQUIRED` read as
 * nothing would connect in clear text while the operator believes otherwise.
 */
const mysqlUrlParameters: Record<string, string> = {
  ssl: 'KELT_MYSQL_TLS',
  'ssl-mode': 'KELT_MYSQL_TLS',
  sslmode: 'KELT_MYSQL_TLS',
  'ssl-ca': 'KELT_MYSQL_TLS_CA_FILE',
  sslca: 'KELT_MYSQL_TLS_CA_FILE',
  'ssl-cert': 'KELT_MYSQL_TLS_CERT_FILE',
  sslcert: 'KELT_MYSQL_TLS_CERT_FILE',
  'ssl-key': 'KELT_MYSQL_TLS_KEY_FILE',
  sslkey: 'KELT_MYSQL_TLS_KEY_FILE',
};

const mysqlUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && new URL(value).protocol === 'mysql:', {
    message: 'must be a mysql://user:password@host:port/database URL',
  })
  .refine((value) => !URL.canParse(value) || new URL(value).pathname.length > 1, {
    message: 'must name the database in its path (mysql://…/database)',
  })
  .superRefine((value, context) => {
    if (!URL.canParse(value)) return;
    for (const name of new URL(value).searchParams.keys()) {
      const instead = mysqlUrlParameters[name.toLowerCase()];
      context.addIssue({
        code: 'custom',
        message: `the URL's query parameter ${name} is not read; ${instead === undefined ? 'kelt takes no URL parameters' : `set ${instead} instead`}`,
      });
    }
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

const envShape = z.object({
  KELT_KAFKA_BROKERS: brokerList,
  KELT_SCHEMA_REGISTRY_URL: httpUrl,
  // Optional here: the collector and extract never open MySQL; whatever does
  // asks for it through connections.mysql(), which names it when unset.
  KELT_MYSQL_URL: mysqlUrl.optional(),
  // Kafka security: TLS (a CA file for a private CA; a client certificate
  // and key for mTLS) and SASL, never in clear text unless allowed by name.
  KELT_KAFKA_TLS: flag,
  KELT_KAFKA_TLS_CA_FILE: optionalText,
  KELT_KAFKA_TLS_CERT_FILE: optionalText,
  KELT_KAFKA_TLS_KEY_FILE: optionalText,
  KELT_KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).optional(),
  KELT_KAFKA_SASL_USERNAME: optionalText,
  KELT_KAFKA_SASL_PASSWORD: optionalText,
  // OAUTHBEARER: the token is read again from the file, or printed by the command, whenever the client authenticates.
  KELT_KAFKA_OAUTH_TOKEN_FILE: optionalText,
  KELT_KAFKA_OAUTH_TOKEN_COMMAND: optionalText,
  KELT_KAFKA_SASL_ALLOW_PLAINTEXT: flag,
  // Registry basic auth (Confluent Cloud: API key and secret), and its TLS files.
  KELT_SCHEMA_REGISTRY_USERNAME: optionalText,
  KELT_SCHEMA_REGISTRY_PASSWORD: optionalText,
  KELT_SCHEMA_REGISTRY_CA_FILE: optionalText,
  KELT_SCHEMA_REGISTRY_CERT_FILE: optionalText,
  KELT_SCHEMA_REGISTRY_KEY_FILE: optionalText,
  KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT: flag,
  // MySQL over TLS; the server's certificate is always verified.
  KELT_MYSQL_TLS: flag,
  KELT_MYSQL_TLS_CA_FILE: optionalText,
  KELT_MYSQL_TLS_CERT_FILE: optionalText,
  KELT_MYSQL_TLS_KEY_FILE: optionalText,
  /** `kelt collect`: the bearer tokens a request may carry (comma- or newline-separated); none: no authentication. */
  KELT_COLLECT_TOKENS: optionalText,
  KELT_LOG_LEVEL: z.enum(logLevels).default('info'),
  // A stage's HTTP port (/metrics, /healthz, /readyz). Loopback by default;
  // a container sets 0.0.0.0 so that probes and scrapes reach it.
  KELT_HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  KELT_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  // off: no HTTP port, no metrics (for measuring what instrumentation costs).
  KELT_METRICS: z.enum(['on', 'off']).default('on'),
  KELT_LAG_INTERVAL_SECONDS: z.coerce.number().positive().default(10),
  KELT_LIVENESS_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
  KELT_PARTITION_CHECK_SECONDS: z.coerce.number().positive().default(30),
});

export const envSchema = envShape.superRefine((env, context) => {
  const issue = (name: keyof typeof env, message: string) => context.addIssue({ code: 'custom', path: [name], message });
  saslIssues(env, issue);
  if ((env.KELT_SCHEMA_REGISTRY_USERNAME === undefined) !== (env.KELT_SCHEMA_REGISTRY_PASSWORD === undefined)) {
    const missing = env.KELT_SCHEMA_REGISTRY_USERNAME === undefined ? 'KELT_SCHEMA_REGISTRY_USERNAME' : 'KELT_SCHEMA_REGISTRY_PASSWORD';
    issue(missing, 'registry basic auth needs both a username and a password');
  }
  if (env.KELT_COLLECT_TOKENS !== undefined && collectorTokens(env).length === 0) {
    issue('KELT_COLLECT_TOKENS', 'is set but names no token (it would mean no authentication): give at least one, or leave it unset');
  }
  const registryHttps = URL.canParse(env.KELT_SCHEMA_REGISTRY_URL) && new URL(env.KELT_SCHEMA_REGISTRY_URL).protocol === 'https:';
  if (env.KELT_SCHEMA_REGISTRY_USERNAME !== undefined && !registryHttps && !env.KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT) {
    issue(
      'KELT_SCHEMA_REGISTRY_USERNAME',
      'registry basic auth over http:// sends the password in clear text: use an https:// URL, or set KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT=true to allow it',
    );
  }
  for (const [prefix, enabled, because] of [
    ['KELT_KAFKA_TLS', env.KELT_KAFKA_TLS, 'KELT_KAFKA_TLS is not true'],
    ['KELT_MYSQL_TLS', env.KELT_MYSQL_TLS, 'KELT_MYSQL_TLS is not true'],
    ['KELT_SCHEMA_REGISTRY', registryHttps, 'KELT_SCHEMA_REGISTRY_URL is not https://'],
  ] as const) {
    const [ca, cert, key] = [`${prefix}_CA_FILE`, `${prefix}_CERT_FILE`, `${prefix}_KEY_FILE`] as const;
    for (const file of [ca, cert, key]) if (env[file] !== undefined && !enabled) issue(file, `is set but ${because}`);
    if ((env[cert] === undefined) !== (env[key] === undefined)) {
      issue(env[cert] === undefined ? cert : key, 'a client certificate needs both its certificate and its key file');
    }
  }
});

/** SASL's settings: complete for the mechanism, and over TLS unless clear text is allowed by name. */
function saslIssues(env: z.infer<typeof envShape>, issue: (name: keyof z.infer<typeof envShape>, message: string) => void): void {
  const mechanism = env.KELT_KAFKA_SASL_MECHANISM;
  const oauth = [env.KELT_KAFKA_OAUTH_TOKEN_FILE, env.KELT_KAFKA_OAUTH_TOKEN_COMMAND];
  if (mechanism === 'oauthbearer') {
    if (oauth.every((value) => value === undefined) || oauth.every((value) => value !== undefined)) {
      issue('KELT_KAFKA_OAUTH_TOKEN_FILE', 'OAUTHBEARER needs a token from either KELT_KAFKA_OAUTH_TOKEN_FILE or KELT_KAFKA_OAUTH_TOKEN_COMMAND');
    }
    for (const name of ['KELT_KAFKA_SASL_USERNAME', 'KELT_KAFKA_SASL_PASSWORD'] as const) {
      if (env[name] !== undefined) issue(name, 'is not used with OAUTHBEARER (its token is the credential)');
    }
  } else {
    for (const name of ['KELT_KAFKA_OAUTH_TOKEN_FILE', 'KELT_KAFKA_OAUTH_TOKEN_COMMAND'] as const) {
      if (env[name] !== undefined) issue(name, 'is set but KELT_KAFKA_SASL_MECHANISM is not oauthbearer');
    }
    const sasl = [mechanism, env.KELT_KAFKA_SASL_USERNAME, env.KELT_KAFKA_SASL_PASSWORD];
    if (sasl.some((value) => value !== undefined) && sasl.some((value) => value === undefined)) {
      for (const [name, value] of [
        ['KELT_KAFKA_SASL_MECHANISM', mechanism],
        ['KELT_KAFKA_SASL_USERNAME', env.KELT_KAFKA_SASL_USERNAME],
        ['KELT_KAFKA_SASL_PASSWORD', env.KELT_KAFKA_SASL_PASSWORD],
      ] as const) {
        if (value === undefined) issue(name, 'SASL needs a mechanism, a username and a password');
      }
    }
  }
  if (mechanism !== undefined && !env.KELT_KAFKA_TLS && !env.KELT_KAFKA_SASL_ALLOW_PLAINTEXT) {
    issue(
      'KELT_KAFKA_SASL_MECHANISM',
      'SASL without TLS sends its credentials in clear text: set KELT_KAFKA_TLS=true, or KELT_KAFKA_SASL_ALLOW_PLAINTEXT=true to allow it',
    );
  }
}

export type Env = z.infer<typeof envSchema>;
export type LogLevel = (typeof logLevels)[number];

export const secretVariables = ['KELT_KAFKA_SASL_PASSWORD', 'KELT_SCHEMA_REGISTRY_PASSWORD', 'KELT_MYSQL_URL', 'KELT_COLLECT_TOKENS'] as const;

/** The collector's bearer tokens (KELT_COLLECT_TOKENS): comma- or newline-separated. */
export function collectorTokens(env: Pick<Env, 'KELT_COLLECT_TOKENS'>): string[] {
  return (env.KELT_COLLECT_TOKENS ?? '')
    .split(/[,\n]/)
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

/** The environment with each `<NAME>_FILE` of a secret variable read into `<NAME>` (one trailing newline dropped). */
function withSecretFiles(source: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; issues: string[] } {
  const env = { ...source };
  const issues: string[] = [];
  for (const name of secretVariables) {
    const file = source[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (source[name] !== undefined) {
      issues.push(`${name}_FILE: ${name} is set too; give one of them`);
      continue;
    }
    try {
      env[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      issues.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  return { env, issues };
}

/**
 * The validated environment. `mysql: false` for the commands that never
 * open MySQL (the collector, extract, produce, status, acls): they run
 * without KELT_MYSQL_URL (and without the secret that holds it).
 */
export function readEnv(given: NodeJS.ProcessEnv = process.env, { mysql = true }: { mysql?: boolean } = {}): Env {
  const { env: source, issues: fileIssues } = withSecretFiles(given);
  if (fileIssues.length > 0) throw new ConfigError('invalid environment', fileIssues);
  const parsed = envSchema.safeParse(source);
  const issues = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return issue.code === 'invalid_type' && source[name] === undefined ? `${name}: is not set` : `${name}: ${issue.message}`;
      });
  if (mysql && source.KELT_MYSQL_URL === undefined) issues.push('KELT_MYSQL_URL: is not set');
  if (!parsed.success || issues.length > 0) throw new ConfigError('invalid environment', issues);
  return parsed.data;
}

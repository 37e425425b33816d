import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnv } from '../../src/config/env.ts';
import { endpointsFrom, type Endpoints } from '../../src/config/endpoints.ts';
import { runStack } from '../../scripts/stack-script.ts';

const kelt = fileURLToPath(new URL('../../scripts/kelt', import.meta.url));

/** What `scripts/stack up --secure` prints: the admin's endpoints and where the stack's certificates and other listeners are. */
export type SecureStack = Record<string, string>;

export function secureStackUp(): Promise<SecureStack> {
  return runStack(['up', '--secure']);
}

/** How a role reaches Kafka on the secured stack. */
export type KafkaIdentity =
  | { scram: string }
  /** A client certificate CN=<name> on the listener that requires one; `rogue`: signed by a CA the broker does not trust. */
  | { certificate: string; rogue?: boolean }
  | { tokenFile: string };

/** How a role reaches MySQL: migrate's DDL user (password, TLS), the stages' DML user (client certificate), or the DML user without TLS. */
export type MySqlIdentity = 'ddl' | 'dml' | 'dml-without-tls';

/** The SCRAM password the secured stack gave each principal (scripts/stack.d/secure.sh). */
export const scramPassword = (principal: string): string => (principal === 'admin' ? 'kelt-admin-secret' : `${principal}-secret`);

/** Endpoints of one identity on the secured stack, with `database` as the MySQL database; validated as the environment is. */
export function identityEndpoints(stack: SecureStack, database: string, kafka: KafkaIdentity, mysql: MySqlIdentity): Endpoints {
  const tls = stack.KELT_SECURE_TLS_DIR!;
  const env: Record<string, string | undefined> = { ...stack };
  for (const name of Object.keys(env)) if (name.startsWith('KELT_KAFKA_SASL') || name.startsWith('KELT_MYSQL_TLS')) delete env[name];
  if ('scram' in kafka) {
    Object.assign(env, {
      KELT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KELT_KAFKA_SASL_USERNAME: kafka.scram,
      KELT_KAFKA_SASL_PASSWORD: scramPassword(kafka.scram),
    });
  } else if ('certificate' in kafka) {
    const name = kafka.rogue === true ? 'kelt-rogue' : kafka.certificate;
    Object.assign(env, {
      KELT_KAFKA_BROKERS: stack.KELT_SECURE_MTLS_BROKERS,
      KELT_KAFKA_TLS_CERT_FILE: join(tls, `${name}.pem`),
      KELT_KAFKA_TLS_KEY_FILE: join(tls, `${name}.key`),
    });
  } else {
    Object.assign(env, { KELT_KAFKA_SASL_MECHANISM: 'oauthbearer', KELT_KAFKA_OAUTH_TOKEN_FILE: kafka.tokenFile });
  }
  const url = new URL(mysql === 'ddl' ? stack.KELT_SECURE_DDL_URL! : stack.KELT_SECURE_DML_URL!);
  url.pathname = `/${database}`;
  env.KELT_MYSQL_URL = url.toString();
  if (mysql !== 'dml-without-tls') {
    Object.assign(env, { KELT_MYSQL_TLS: 'true', KELT_MYSQL_TLS_CA_FILE: join(tls, 'kelt-local-ca.pem') });
    if (mysql === 'dml')
      Object.assign(env, { KELT_MYSQL_TLS_CERT_FILE: join(tls, 'kelt_dml.pem'), KELT_MYSQL_TLS_KEY_FILE: join(tls, 'kelt_dml.key') });
  }
  return endpointsFrom(readEnv(env));
}

/**
 * An unsecured JWS (alg none) for the broker's test validator: the
 * principal in `sub`, expiring `expiresInSeconds` from now (negative: expired).
 */
export function writeUnsecuredToken(path: string, principal: string, expiresInSeconds: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  writeFileSync(path, `${part({ alg: 'none' })}.${part({ sub: principal, iat: now - 60, exp: now + expiresInSeconds })}.`);
  return path;
}

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs `kelt <args>` with these endpoints in its environment; resolves with its exit code and everything it printed. */
export function runKelt(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(kelt, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

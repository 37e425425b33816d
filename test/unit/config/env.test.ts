import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { readEnv } from '../../../src/config/env.ts';
import { endpointsFrom, envOf, redactUrl, secretsOf } from '../../../src/config/endpoints.ts';

const valid = {
  KELT_KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19094',
  KELT_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081',
  KELT_MYSQL_URL: 'mysql://kelt:s3cret@127.0.0.1:13306/kelt',
};

function issuesOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    readEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('readEnv accepted an invalid environment');
}

describe('readEnv', () => {
  it('parses the broker list and defaults the log level', () => {
    const env = readEnv(valid);
    expect(env.KELT_KAFKA_BROKERS).toEqual(['127.0.0.1:19092', '127.0.0.1:19094']);
    expect(env.KELT_LOG_LEVEL).toBe('info');
  });

  it('defaults the HTTP port to loopback:9464 and metrics on', () => {
    const env = readEnv(valid);
    expect([env.KELT_HTTP_HOST, env.KELT_HTTP_PORT, env.KELT_METRICS]).toEqual(['127.0.0.1', 9464, 'on']);
    expect(issuesOf({ ...valid, KELT_HTTP_PORT: '70000' })[0]).toMatch(/^KELT_HTTP_PORT: /);
  });

  it('turns the security settings into endpoints, and leaves them out when unset', () => {
    expect(endpointsFrom(readEnv(valid))).toEqual({
      kafkaBrokers: ['127.0.0.1:19092', '127.0.0.1:19094'],
      schemaRegistryUrl: 'http://127.0.0.1:18081',
      mysqlUrl: 'mysql://kelt:s3cret@127.0.0.1:13306/kelt',
    });
    const secured = endpointsFrom(
      readEnv({
        ...valid,
        KELT_KAFKA_TLS: 'true',
        KELT_KAFKA_TLS_CA_FILE: '/etc/kelt/kafka-ca.pem',
        KELT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KELT_KAFKA_SASL_USERNAME: 'kelt',
        KELT_KAFKA_SASL_PASSWORD: 'pw',
        KELT_SCHEMA_REGISTRY_URL: 'https://registry.internal:8081',
        KELT_SCHEMA_REGISTRY_USERNAME: 'key',
        KELT_SCHEMA_REGISTRY_PASSWORD: 'secret',
        KELT_MYSQL_TLS: 'true',
      }),
    );
    expect(secured.kafkaSaslPlaintext).toBeUndefined();
    expect(secured).toMatchObject({
      kafkaTls: { caFile: '/etc/kelt/kafka-ca.pem' },
      kafkaSasl: { mechanism: 'scram-sha-512', username: 'kelt', password: 'pw' },
      registryAuth: { username: 'key', password: 'secret' },
      mysqlTls: {},
    });
  });

  it('gives a child process the same endpoints (envOf is the inverse of endpointsFrom)', () => {
    const endpoints = {
      kafkaBrokers: ['k1:9093', 'k2:9093'],
      schemaRegistryUrl: 'https://registry:8081',
      mysqlUrl: 'mysql://u:p@db:3306/d',
      kafkaTls: { caFile: '/ca.pem', certFile: '/client.pem', keyFile: '/client.key' },
      kafkaSasl: { mechanism: 'plain' as const, username: 'u', password: 'p' },
      registryAuth: { username: 'k', password: 's' },
      registryTls: { caFile: '/registry-ca.pem', certFile: '/r.pem', keyFile: '/r.key' },
      mysqlTls: { caFile: '/mysql-ca.pem', certFile: '/m.pem', keyFile: '/m.key' },
    };
    expect(endpointsFrom(readEnv(envOf(endpoints)))).toEqual(endpoints);
    const oauth = {
      kafkaBrokers: ['k1:9093'],
      schemaRegistryUrl: 'http://registry:8081',
      mysqlUrl: 'mysql://u:p@db:3306/d',
      kafkaSasl: { mechanism: 'oauthbearer' as const, tokenCommand: 'cat /run/token' },
      kafkaSaslPlaintext: true as const,
    };
    expect(endpointsFrom(readEnv(envOf(oauth)))).toEqual(oauth);
  });

  it('refuses a KELT_COLLECT_TOKENS that names no token, which would mean no authentication', () => {
    expect(issuesOf({ ...valid, KELT_COLLECT_TOKENS: ' , ,' })).toEqual([
      'KELT_COLLECT_TOKENS: is set but names no token (it would mean no authentication): give at least one, or leave it unset',
    ]);
  });

  it('refuses registry basic auth over http:// unless clear text is allowed by name', () => {
    const auth = { KELT_SCHEMA_REGISTRY_USERNAME: 'key', KELT_SCHEMA_REGISTRY_PASSWORD: 'secret' };
    expect(issuesOf({ ...valid, ...auth })).toEqual([
      'KELT_SCHEMA_REGISTRY_USERNAME: registry basic auth over http:// sends the password in clear text: use an https:// URL, or set KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT=true to allow it',
    ]);
    expect(endpointsFrom(readEnv({ ...valid, ...auth, KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT: 'true' })).registryAuth).toEqual({
      username: 'key',
      password: 'secret',
    });
    expect(endpointsFrom(readEnv({ ...valid, ...auth, KELT_SCHEMA_REGISTRY_URL: 'https://registry.internal:8081' })).registryAuth).toBeDefined();
  });

  it('refuses SASL without TLS unless clear text is allowed by name', () => {
    const sasl = { KELT_KAFKA_SASL_MECHANISM: 'scram-sha-512', KELT_KAFKA_SASL_USERNAME: 'kelt', KELT_KAFKA_SASL_PASSWORD: 'pw' };
    expect(issuesOf({ ...valid, ...sasl })).toEqual([
      'KELT_KAFKA_SASL_MECHANISM: SASL without TLS sends its credentials in clear text: set KELT_KAFKA_TLS=true, or KELT_KAFKA_SASL_ALLOW_PLAINTEXT=true to allow it',
    ]);
    expect(endpointsFrom(readEnv({ ...valid, ...sasl, KELT_KAFKA_SASL_ALLOW_PLAINTEXT: 'true' })).kafkaSaslPlaintext).toBe(true);
    expect(endpointsFrom(readEnv({ ...valid, ...sasl, KELT_KAFKA_TLS: 'true' })).kafkaSaslPlaintext).toBeUndefined();
  });

  it('takes OAUTHBEARER with one token source and no password', () => {
    const oauth = { ...valid, KELT_KAFKA_TLS: 'true', KELT_KAFKA_SASL_MECHANISM: 'oauthbearer' };
    expect(endpointsFrom(readEnv({ ...oauth, KELT_KAFKA_OAUTH_TOKEN_FILE: '/run/token' })).kafkaSasl).toEqual({
      mechanism: 'oauthbearer',
      tokenFile: '/run/token',
    });
    expect(issuesOf(oauth)).toEqual([
      'KELT_KAFKA_OAUTH_TOKEN_FILE: OAUTHBEARER needs a token from either KELT_KAFKA_OAUTH_TOKEN_FILE or KELT_KAFKA_OAUTH_TOKEN_COMMAND',
    ]);
    expect(issuesOf({ ...oauth, KELT_KAFKA_OAUTH_TOKEN_FILE: '/t', KELT_KAFKA_SASL_PASSWORD: 'pw' })).toEqual([
      'KELT_KAFKA_SASL_PASSWORD: is not used with OAUTHBEARER (its token is the credential)',
    ]);
    expect(issuesOf({ ...valid, KELT_KAFKA_OAUTH_TOKEN_FILE: '/t' })).toEqual([
      'KELT_KAFKA_OAUTH_TOKEN_FILE: is set but KELT_KAFKA_SASL_MECHANISM is not oauthbearer',
    ]);
  });

  it('needs both halves of a client certificate, and TLS (https for the registry) for any TLS file', () => {
    expect(issuesOf({ ...valid, KELT_KAFKA_TLS: 'true', KELT_KAFKA_TLS_CERT_FILE: '/c.pem' })).toEqual([
      'KELT_KAFKA_TLS_KEY_FILE: a client certificate needs both its certificate and its key file',
    ]);
    expect(issuesOf({ ...valid, KELT_SCHEMA_REGISTRY_CA_FILE: '/ca.pem' })).toEqual([
      'KELT_SCHEMA_REGISTRY_CA_FILE: is set but KELT_SCHEMA_REGISTRY_URL is not https://',
    ]);
    expect(issuesOf({ ...valid, KELT_MYSQL_TLS_KEY_FILE: '/k' })).toEqual([
      'KELT_MYSQL_TLS_KEY_FILE: is set but KELT_MYSQL_TLS is not true',
      'KELT_MYSQL_TLS_CERT_FILE: a client certificate needs both its certificate and its key file',
    ]);
  });

  it('refuses a MySQL URL’s query parameters by name, saying which variable sets each', () => {
    expect(issuesOf({ ...valid, KELT_MYSQL_URL: `${valid.KELT_MYSQL_URL}?ssl-mode=REQUIRED&charset=latin1` })).toEqual([
      "KELT_MYSQL_URL: the URL's query parameter ssl-mode is not read; set KELT_MYSQL_TLS instead",
      "KELT_MYSQL_URL: the URL's query parameter charset is not read; kelt takes no URL parameters",
    ]);
  });

  it('lists the passwords to redact, as given and as the URL decodes them', () => {
    expect(
      secretsOf({
        kafkaBrokers: ['k:9093'],
        schemaRegistryUrl: 'https://key:reg%21secret@registry',
        mysqlUrl: 'mysql://u:my%40pw@db/d',
        kafkaSasl: { mechanism: 'scram-sha-512', username: 'u', password: 'kafka-pw' },
        registryAuth: { username: 'k', password: 'basic-pw' },
      }),
    ).toEqual(['kafka-pw', 'basic-pw', 'my%40pw', 'my@pw', 'reg%21secret', 'reg!secret']);
  });

  it('names the missing half of a credential and a CA file without TLS', () => {
    expect(issuesOf({ ...valid, KELT_KAFKA_TLS: 'true', KELT_KAFKA_SASL_MECHANISM: 'plain', KELT_KAFKA_SASL_USERNAME: 'kelt' })).toEqual([
      'KELT_KAFKA_SASL_PASSWORD: SASL needs a mechanism, a username and a password',
    ]);
    expect(issuesOf({ ...valid, KELT_SCHEMA_REGISTRY_PASSWORD: 'x' })).toEqual([
      'KELT_SCHEMA_REGISTRY_USERNAME: registry basic auth needs both a username and a password',
    ]);
    expect(issuesOf({ ...valid, KELT_MYSQL_TLS_CA_FILE: '/ca.pem' })).toEqual(['KELT_MYSQL_TLS_CA_FILE: is set but KELT_MYSQL_TLS is not true']);
    expect(issuesOf({ ...valid, KELT_KAFKA_TLS: 'yes' })[0]).toMatch(/^KELT_KAFKA_TLS: /);
  });

  it('asks for no MySQL URL where the command never opens MySQL (the collector, extract, produce)', () => {
    const { KELT_MYSQL_URL: _unused, ...withoutMysql } = valid;
    expect(readEnv(withoutMysql, { mysql: false }).KELT_MYSQL_URL).toBeUndefined();
    expect(endpointsFrom(readEnv(withoutMysql, { mysql: false })).mysqlUrl).toBeUndefined();
    expect(issuesOf(withoutMysql)).toEqual(['KELT_MYSQL_URL: is not set']);
  });

  it('names every missing variable', () => {
    expect(issuesOf({})).toEqual(['KELT_KAFKA_BROKERS: is not set', 'KELT_SCHEMA_REGISTRY_URL: is not set', 'KELT_MYSQL_URL: is not set']);
  });

  it('names the bad field and says what is expected', () => {
    expect(issuesOf({ ...valid, KELT_KAFKA_BROKERS: 'localhost' })).toEqual(['KELT_KAFKA_BROKERS: each broker must be host:port']);
    expect(issuesOf({ ...valid, KELT_MYSQL_URL: 'postgres://x@y/z' })).toEqual([
      'KELT_MYSQL_URL: must be a mysql://user:password@host:port/database URL',
    ]);
    expect(issuesOf({ ...valid, KELT_MYSQL_URL: 'mysql://kelt@127.0.0.1:3306' })).toEqual([
      'KELT_MYSQL_URL: must name the database in its path (mysql://…/database)',
    ]);
    expect(issuesOf({ ...valid, KELT_SCHEMA_REGISTRY_URL: 'ftp://registry' })).toEqual([
      'KELT_SCHEMA_REGISTRY_URL: must be an http:// or https:// URL',
    ]);
    expect(issuesOf({ ...valid, KELT_LOG_LEVEL: 'loud' })[0]).toMatch(/^KELT_LOG_LEVEL: /);
  });

  it('never puts a password in its error messages', () => {
    const messages = issuesOf({ ...valid, KELT_KAFKA_BROKERS: 'nope' }).join('\n');
    expect(messages).not.toContain('s3cret');
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl(valid.KELT_MYSQL_URL)).toBe('mysql://kelt:***@127.0.0.1:13306/kelt');
    expect(redactUrl('http://127.0.0.1:18081')).toBe('http://127.0.0.1:18081/');
  });
});

describe('secrets from files', () => {
  it('reads a secret variable from the file <NAME>_FILE names, and refuses both or an unreadable file by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kelt-env-'));
    writeFileSync(join(dir, 'url'), 'mysql://kelt:from-file@127.0.0.1:13306/kelt\n');
    writeFileSync(join(dir, 'password'), 'sasl-from-file');
    const { KELT_MYSQL_URL: _url, ...rest } = valid;
    const env = readEnv({
      ...rest,
      KELT_MYSQL_URL_FILE: join(dir, 'url'),
      KELT_KAFKA_TLS: 'true',
      KELT_KAFKA_SASL_MECHANISM: 'plain',
      KELT_KAFKA_SASL_USERNAME: 'kelt',
      KELT_KAFKA_SASL_PASSWORD_FILE: join(dir, 'password'),
    });
    expect(env.KELT_MYSQL_URL).toBe('mysql://kelt:from-file@127.0.0.1:13306/kelt');
    expect(env.KELT_KAFKA_SASL_PASSWORD).toBe('sasl-from-file');
    expect(issuesOf({ ...valid, KELT_MYSQL_URL_FILE: join(dir, 'url') })).toEqual([
      'KELT_MYSQL_URL_FILE: KELT_MYSQL_URL is set too; give one of them',
    ]);
    expect(issuesOf({ ...rest, KELT_MYSQL_URL_FILE: join(dir, 'missing') })).toEqual([
      `KELT_MYSQL_URL_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
    ]);
  });
});

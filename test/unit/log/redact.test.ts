import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { isSecretKey, redactDeep, redactText, registerSecrets } from '../../../src/log/redact.ts';

describe('log redaction', () => {
  it('redacts secret keys at any depth', () => {
    expect(redactDeep({ a: { b: { c: { password: 'p', mysqlUrl: 'mysql://u:p@h/db', keep: 1 } } } })).toEqual({
      a: { b: { c: { password: '***', mysqlUrl: '***', keep: 1 } } },
    });
    expect(redactDeep([{ sasl: { username: 'u', password: 'p' } }])).toEqual([{ sasl: '***' }]);
  });

  it('removes the userinfo of any URL in any text', () => {
    expect(redactText('schema registry at https://kelt:s3cret@registry:8081/ did not answer')).toBe(
      'schema registry at https://***@registry:8081/ did not answer',
    );
    expect(redactDeep({ detail: { url: 'mysql://kelt:kelt@127.0.0.1:3306/kelt' } })).toEqual({ detail: { url: 'mysql://***@127.0.0.1:3306/kelt' } });
    expect(redactText('http://host:8081/subjects')).toBe('http://host:8081/subjects');
  });

  it('leaves an error whole for the serializer, which then redacts its message and causes', () => {
    const error = new Error('cannot reach https://u:pw@registry/', { cause: new Error('GET https://u:pw@registry/subjects') });
    expect(redactDeep({ err: error })).toEqual({ err: error });
    const serialized = redactDeep(pino.stdSerializers.err(error)) as { message: string; stack: string };
    expect(serialized.message).toBe('cannot reach https://***@registry/: GET https://***@registry/subjects');
    expect(JSON.stringify(serialized)).not.toContain('pw@');
  });

  it('knows a secret key by its name in any case and spelling, and leaves ordinary keys', () => {
    for (const key of [
      'password',
      'PASSWORD',
      'KELT_KAFKA_SASL_PASSWORD',
      'KELT_SCHEMA_REGISTRY_PASSWORD',
      'KELT_MYSQL_URL',
      'mysqlUrl',
      'apiKey',
      'api_key',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of [
      'Authorization',
      'accessToken',
      'KELT_KAFKA_OAUTH_TOKEN_FILE',
      'clientSecret',
      'privateKey',
      'ssl',
      'SASL',
      'credentials',
      'passphrase',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['key', 'partition', 'topic', 'reason', 'offset', 'brokers', 'username', 'caFile']) expect(isSecretKey(key), key).toBe(false);
    expect(redactDeep({ config: { nested: [{ Sasl: { password: 'p' } }, { KELT_KAFKA_SASL_PASSWORD: 'x', key: 'order-1' }] } })).toEqual({
      config: { nested: [{ Sasl: '***' }, { KELT_KAFKA_SASL_PASSWORD: '***', key: 'order-1' }] },
    });
  });

  it('replaces a registered secret wherever it appears in text, and ignores values too short to be one', () => {
    registerSecrets(['hunter2-very-secret', 'short12', undefined]);
    expect(redactText('SASL failed for kelt with hunter2-very-secret (twice: hunter2-very-secret)')).toBe(
      'SASL failed for kelt with *** (twice: ***)',
    );
    expect(redactDeep({ detail: ['token=hunter2-very-secret'] })).toEqual({ detail: ['token=***'] });
    expect(redactText('short12 stays')).toBe('short12 stays');
  });
});

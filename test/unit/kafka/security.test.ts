import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { kafkaSaslOptions, kafkaTlsOptions, oauthToken } from '../../../src/kafka/security.ts';
import { redactText } from '../../../src/log/redact.ts';

const dir = mkdtempSync(join(tmpdir(), 'kelt-kafka-security-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('Kafka security options', () => {
  it('verifies the server always, with a private CA and a client certificate when given', () => {
    expect(kafkaTlsOptions({})).toBe(true);
    const ca = file('ca.pem', 'CA');
    expect(kafkaTlsOptions({ caFile: ca })).toEqual({ rejectUnauthorized: true, ca: ['CA'] });
    expect(kafkaTlsOptions({ caFile: ca, certFile: file('client.pem', 'CERT'), keyFile: file('client.key', 'KEY') })).toEqual({
      rejectUnauthorized: true,
      ca: ['CA'],
      cert: 'CERT',
      key: 'KEY',
    });
  });

  it('refuses SASL without TLS unless allowed by name', () => {
    const scram = { mechanism: 'scram-sha-512' as const, username: 'u', password: 'p' };
    expect(() => kafkaSaslOptions(scram, false, false)).toThrow(ConfigError);
    expect(kafkaSaslOptions(scram, false, true)).toEqual(scram);
    expect(kafkaSaslOptions(scram, true, false)).toEqual(scram);
  });

  it('reads the OAUTHBEARER token again on each authentication, and redacts it from logs from then on', async () => {
    const tokenFile = file('token', 'first-token-value\n');
    const options = kafkaSaslOptions({ mechanism: 'oauthbearer', tokenFile }, true, false) as {
      oauthBearerProvider: () => Promise<{ value: string }>;
    };
    expect(await options.oauthBearerProvider()).toEqual({ value: 'first-token-value' });
    writeFileSync(tokenFile, 'rotated-token-value');
    expect(await options.oauthBearerProvider()).toEqual({ value: 'rotated-token-value' });
    expect(redactText('bearer rotated-token-value refused')).toBe('bearer *** refused');
  });

  it('takes the token a command prints, and says so when there is none', async () => {
    expect(await oauthToken({ mechanism: 'oauthbearer', tokenCommand: 'printf "%s\\n" command-token-value' })).toBe('command-token-value');
    await expect(oauthToken({ mechanism: 'oauthbearer', tokenCommand: 'true' })).rejects.toThrow(/command printed nothing/);
    await expect(oauthToken({ mechanism: 'oauthbearer', tokenFile: file('empty', '') })).rejects.toThrow(/is empty/);
    await expect(oauthToken({ mechanism: 'oauthbearer', tokenCommand: 'exit 3' })).rejects.toThrow();
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import type { Mechanism } from 'kafkajs';
import { kafkaErrorKind } from '../../../src/kafka/errors.ts';
import { kafkaSaslOptions, kafkaTlsOptions, oauthBearerAuthenticator, oauthToken } from '../../../src/kafka/security.ts';
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
    const sent: string[] = [];
    const saslAuthenticate = async (args: { request: { encode: () => Buffer | Promise<Buffer> } }) => {
      sent.push((await args.request.encode()).subarray(4).toString('utf8'));
      return Buffer.alloc(0);
    };
    const options = kafkaSaslOptions({ mechanism: 'oauthbearer', tokenFile }, true, false) as Mechanism;
    const authenticate = () =>
      options
        .authenticationProvider({ host: 'b', port: 9093, logger: undefined as never, saslAuthenticate: saslAuthenticate as never })
        .authenticate();
    await authenticate();
    writeFileSync(tokenFile, 'rotated-token-value');
    await authenticate();
    expect(sent).toEqual(['n,,\u0001auth=Bearer first-token-value\u0001\u0001', 'n,,\u0001auth=Bearer rotated-token-value\u0001\u0001']);
    expect(redactText('bearer rotated-token-value refused')).toBe('bearer *** refused');
  });

  it('takes an error challenge for what it is: the broker refused the token (kafkajs took it for success)', async () => {
    const refusal = Buffer.from('{"status":"invalid_token"}');
    const sized = Buffer.concat([Buffer.from([0, 0, 0, refusal.length]), refusal]);
    const refusing = async (args: { response: { decode: (raw: Buffer) => Buffer; parse: (data: Buffer) => Buffer } }) =>
      args.response.parse(args.response.decode(sized));
    const authenticator = oauthBearerAuthenticator(
      { host: 'b', port: 9093, logger: undefined as never, saslAuthenticate: refusing as never },
      async () => 'expired-token-value',
    );
    const failure = await authenticator.authenticate().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('SASL OAUTHBEARER authentication failed: b:9093 refused the token (invalid_token)');
    expect(kafkaErrorKind(failure)).toBe('fatal');
  });

  it('takes the token a command prints, and says so when there is none', async () => {
    expect(await oauthToken({ mechanism: 'oauthbearer', tokenCommand: 'printf "%s\\n" command-token-value' })).toBe('command-token-value');
    await expect(oauthToken({ mechanism: 'oauthbearer', tokenCommand: 'true' })).rejects.toThrow(/command printed nothing/);
    await expect(oauthToken({ mechanism: 'oauthbearer', tokenFile: file('empty', '') })).rejects.toThrow(/is empty/);
    await expect(oauthToken({ mechanism: 'oauthbearer', tokenCommand: 'exit 3' })).rejects.toThrow();
  });
});

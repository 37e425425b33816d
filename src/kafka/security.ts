import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import type kafkajs from 'kafkajs';
import type { AuthenticationProviderArgs, Mechanism, SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaSasl, TlsFiles } from '../config/endpoints.ts';
import { tlsMaterial } from '../config/tls-files.ts';
import { ConfigError } from '../errors.ts';
import { registerSecrets } from '../log/redact.ts';

const run = promisify(execFile);
// kafkajs's own class for a refused credential, which errors.ts classifies as fatal (from its errors module, as there).
// Its type declares no constructor arguments; the class takes the message like every KafkaJSError.
const { KafkaJSSASLAuthenticationError } = createRequire(import.meta.url)('kafkajs/src/errors.js') as {
  KafkaJSSASLAuthenticationError: new (message: string) => InstanceType<typeof kafkajs.KafkaJSSASLAuthenticationError>;
};
/** A token command that has not printed a token by then has failed. */
const TOKEN_COMMAND_TIMEOUT_MS = 10_000;

/** kafkajs's `ssl` for kelt's TLS files: the server always verified, a client certificate when given (mTLS). */
export function kafkaTlsOptions(tls: TlsFiles): true | ConnectionOptions {
  if (tls.caFile === undefined && tls.certFile === undefined) return true;
  const { ca, ...client } = tlsMaterial(tls);
  return { rejectUnauthorized: true, ...(ca === undefined ? {} : { ca: [ca] }), ...client };
}

/**
 * kafkajs's `sasl` for kelt's settings. SASL without TLS is refused here
 * too (not only in the environment's check), unless allowed by name: its
 * PLAIN password or token would cross the network in clear text.
 */
export function kafkaSaslOptions(sasl: KafkaSasl, overTls: boolean, plaintextAllowed: boolean): SASLOptions | Mechanism {
  if (!overTls && !plaintextAllowed) {
    throw new ConfigError(
      'SASL without TLS sends its credentials in clear text: set KELT_KAFKA_TLS=true, or KELT_KAFKA_SASL_ALLOW_PLAINTEXT=true to allow it',
    );
  }
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password };
  }
  return { mechanism: 'oauthbearer', authenticationProvider: (args) => oauthBearerAuthenticator(args, () => oauthToken(sasl)) };
}

/**
 * SASL/OAUTHBEARER (RFC 7628) as Kafka speaks it. kafkajs 2.2.4's own
 * authenticator ignores the broker's answer: a refused token comes back as
 * an error challenge (`{"status":"invalid_token"}`), which kafkajs takes for
 * success, and the connection is then closed under the next request
 * ("Closed connection", retried as if the network had failed). Here a
 * challenge is a refusal, raised as kafkajs's SASL authentication error,
 * which ends the process with the broker's status.
 */
export function oauthBearerAuthenticator({ host, port, saslAuthenticate }: AuthenticationProviderArgs, token: () => Promise<string>) {
  return {
    async authenticate(): Promise<void> {
      const value = await token();
      const challenge = await saslAuthenticate<Buffer>({
        request: { encode: () => sizedBytes(Buffer.from(`n,,\u0001auth=Bearer ${value}\u0001\u0001`)) },
        response: { decode: bytesOfSized, parse: (data) => data },
      });
      if (challenge === undefined || challenge.length === 0) return;
      throw new KafkaJSSASLAuthenticationError(`SASL OAUTHBEARER authentication failed: ${host}:${port} refused the token (${refusalOf(challenge)})`);
    },
  };
}

/** SASL bytes as kafkajs's mechanisms frame them on the wire: an int32 length, then the bytes. */
function sizedBytes(bytes: Buffer): Buffer {
  const sized = Buffer.alloc(4 + bytes.length);
  sized.writeInt32BE(bytes.length, 0);
  bytes.copy(sized, 4);
  return sized;
}

/** The broker's answer unframed; none (a success) is empty. */
function bytesOfSized(raw: Buffer): Buffer {
  if (raw.length < 4) return Buffer.alloc(0);
  const length = raw.readInt32BE(0);
  return length <= 0 ? Buffer.alloc(0) : raw.subarray(4, 4 + length);
}

/** The status of an RFC 7628 error challenge (`invalid_token`, `invalid_scope`…). */
function refusalOf(challenge: Buffer): string {
  const text = challenge.toString('utf8');
  try {
    const { status } = JSON.parse(text) as { status?: unknown };
    return typeof status === 'string' ? status : text;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return text;
  }
}

/**
 * The OAUTHBEARER token, obtained again each time the client authenticates
 * (a new connection, a re-authentication), so a rotated file or a command
 * that refreshes its token is picked up without a restart.
 */
export async function oauthToken(sasl: Extract<KafkaSasl, { mechanism: 'oauthbearer' }>): Promise<string> {
  let token: string;
  if (sasl.tokenFile !== undefined) {
    token = (await readFile(sasl.tokenFile, 'utf8')).trim();
  } else if (sasl.tokenCommand !== undefined) {
    const { stdout } = await run('/bin/sh', ['-c', sasl.tokenCommand], { timeout: TOKEN_COMMAND_TIMEOUT_MS });
    token = stdout.trim();
  } else {
    throw new ConfigError('OAUTHBEARER needs a token file or a token command');
  }
  if (token === '')
    throw new ConfigError(`the OAUTHBEARER token ${sasl.tokenFile === undefined ? 'command printed nothing' : `file ${sasl.tokenFile} is empty`}`);
  registerSecrets([token]);
  return token;
}

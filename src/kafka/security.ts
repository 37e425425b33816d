import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaSasl, TlsFiles } from '../config/env.ts';
import { ConfigError } from '../errors.ts';
import { registerSecrets } from '../log/redact.ts';

const run = promisify(execFile);
/** A token command that has not printed a token by then has failed. */
const TOKEN_COMMAND_TIMEOUT_MS = 10_000;

/** kafkajs's `ssl` for kelt's TLS files: the server always verified, a client certificate when given (mTLS). */
export function kafkaTlsOptions(tls: TlsFiles): true | ConnectionOptions {
  if (tls.caFile === undefined && tls.certFile === undefined) return true;
  return {
    rejectUnauthorized: true,
    ...(tls.caFile === undefined ? {} : { ca: [readFileSync(tls.caFile, 'utf8')] }),
    ...(tls.certFile === undefined || tls.keyFile === undefined
      ? {}
      : { cert: readFileSync(tls.certFile, 'utf8'), key: readFileSync(tls.keyFile, 'utf8') }),
  };
}

/**
 * kafkajs's `sasl` for kelt's settings. SASL without TLS is refused here
 * too (not only in the environment's check), unless allowed by name: its
 * PLAIN password or token would cross the network in clear text.
 */
export function kafkaSaslOptions(sasl: KafkaSasl, overTls: boolean, plaintextAllowed: boolean): SASLOptions {
  if (!overTls && !plaintextAllowed) {
    throw new ConfigError(
      'SASL without TLS sends its credentials in clear text: set KELT_KAFKA_TLS=true, or KELT_KAFKA_SASL_ALLOW_PLAINTEXT=true to allow it',
    );
  }
  if (sasl.mechanism !== 'oauthbearer') return sasl;
  return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await oauthToken(sasl) }) };
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

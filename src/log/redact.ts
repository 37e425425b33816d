/**
 * Keys whose values are secrets wherever they appear in a log record, in any
 * case and spelling (`password`, `KELT_KAFKA_SASL_PASSWORD`, `apiKey`,
 * `Authorization`, `mysqlUrl`…). `ssl` and `sasl` hold a client's whole
 * security options (a private key, a password), so they go whole.
 */
const secretKey =
  /pass(word|wd|phrase)?$|password|secret|token|credential|authorization|cookie|private.?key|api.?key|^(auth|sasl|ssl|tls|bearer)$|sasl.?(password|token)|mysql.?url|^key.?pem$/i;
/** `scheme://user:password@` in any text: the userinfo of a URL. */
const userinfo = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi;
const MAX_DEPTH = 10;
/** Shorter values would redact ordinary words (the local stack's password `kelt` is in every table name); the URL rule still hides them in URLs. */
const MIN_SECRET_LENGTH = 8;

/** The values of this process's secrets (passwords, tokens), replaced wherever they appear in text. */
const knownSecrets = new Set<string>();

/**
 * Makes `values` redacted from every log line from now on, wherever they
 * appear (an error message quoting a connection string, a library echoing its
 * options): a leak that the key and URL rules miss is still caught.
 */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) if (value !== undefined && value.length >= MIN_SECRET_LENGTH) knownSecrets.add(value);
}

export function isSecretKey(key: string): boolean {
  return secretKey.test(key);
}

/** Text with every URL's user and password, and every registered secret, replaced. */
export function redactText(text: string): string {
  let redacted = text.replace(userinfo, '$1***@');
  for (const secret of knownSecrets) if (redacted.includes(secret)) redacted = redacted.replaceAll(secret, '***');
  return redacted;
}

/**
 * A copy of a log record's fields with secrets redacted at any depth: values
 * of secret keys, and the userinfo of URLs and registered secrets in any
 * string (an error's message may quote a URL it was given).
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  // An Error is left whole for the err serializer, which redacts what it makes of it.
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || Buffer.isBuffer(value) || value instanceof Date || value instanceof Error) {
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = isSecretKey(key) ? '***' : redactDeep(item, depth + 1);
  return out;
}

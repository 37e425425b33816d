/** Keys whose values are secrets wherever they appear in a log record. */
const secretKeys = new Set(['password', 'sasl', 'mysqlUrl', 'authorization', 'auth', 'ssl', 'KELT_MYSQL_URL', 'KELT_SASL_PASSWORD']);
/** `scheme://user:password@` in any text: the userinfo of a URL. */
const userinfo = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi;
const MAX_DEPTH = 10;

/** Text with every URL's user and password replaced. */
export function redactText(text: string): string {
  return text.replace(userinfo, '$1***@');
}

/**
 * A copy of a log record's fields with secrets redacted at any depth: values
 * of secret keys, and the userinfo of URLs in any string (an error's message
 * may quote a URL it was given).
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  // An Error is left whole for the err serializer, which redacts what it makes of it.
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || Buffer.isBuffer(value) || value instanceof Date || value instanceof Error) {
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = secretKeys.has(key) ? '***' : redactDeep(item, depth + 1);
  return out;
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Bad configuration ends a stage with exit 2 and one message naming the
 * problem: no library stack trace. Nothing here needs a running stack.
 */
const kelt = fileURLToPath(new URL('../../../scripts/kelt', import.meta.url));
const spec = fileURLToPath(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url));
const env = {
  PATH: process.env.PATH,
  KELT_KAFKA_BROKERS: '127.0.0.1:1',
  KELT_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
  KELT_MYSQL_URL: 'mysql://kelt:secret-password@127.0.0.1:1/kelt',
  KELT_LOG_LEVEL: 'silent',
};

function run(args: string[], overrides: Record<string, string | undefined> = {}) {
  const result = spawnSync(kelt, args, { encoding: 'utf8', env: { ...env, ...overrides }, timeout: 60_000 });
  expect(result.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
  expect(result.stderr, 'no secret').not.toContain('secret-password');
  return result;
}

function specWith(text: string, schema?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kelt-bad-'));
  if (schema !== undefined) writeFileSync(join(dir, 'broken.avsc'), schema);
  writeFileSync(join(dir, 'pipeline.yaml'), text);
  return join(dir, 'pipeline.yaml');
}

describe('a stage given bad configuration', () => {
  it('names an unreachable broker', () => {
    const result = run(['extract', '--pipeline', spec]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^kelt: cannot reach Kafka at 127\.0\.0\.1:1 \(KELT_KAFKA_BROKERS\)/);
  });

  it('names a missing or malformed environment variable', () => {
    const result = run(['load', '--pipeline', spec], { KELT_MYSQL_URL: undefined, KELT_KAFKA_BROKERS: 'nope' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('KELT_KAFKA_BROKERS: each broker must be host:port');
    expect(result.stderr).toContain('KELT_MYSQL_URL: is not set');
  });

  it('names an unknown field of the spec', () => {
    const result = run(['transform', '--pipeline', specWith('name: x\nsurprise: 1\n')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Unrecognized key: "surprise"');
  });

  it('names a schema file that does not parse', () => {
    const text = [
      'name: broken',
      'source: {schema: broken.avsc, keyField: id}',
      'staging: {table: stg, primaryKey: [id]}',
      `transform: {module: ${fileURLToPath(new URL('../../../schemas/pageviews.transform.ts', import.meta.url))}, tables: [{name: t, primaryKey: [id], columns: {id: string}}]}`,
    ].join('\n');
    const result = run(['extract', '--pipeline', specWith(text, '{"type": "record", "fields": [')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/source\.schema: .*broken\.avsc is not a valid Avro schema/);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const kelt = fileURLToPath(new URL('../../../scripts/kelt', import.meta.url));

describe('the kelt command', () => {
  it('prints its usage and the connection variables with --help', () => {
    const out = execFileSync(kelt, ['--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^Usage: kelt/);
    expect(out).toContain('KELT_KAFKA_BROKERS');
    expect(out).toContain('KELT_MYSQL_URL');
  });

  it('validates a pipeline spec without connecting to anything', () => {
    const spec = fileURLToPath(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url));
    const out = execFileSync(kelt, ['validate', spec], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(out).toContain('pipeline pageviews: 12 partitions');
    expect(out.trim().endsWith('valid')).toBe(true);
  });

  it('rejects a bad spec with exit 2 and a message naming the field, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kelt-spec-'));
    const spec = join(dir, 'bad.yaml');
    writeFileSync(spec, 'name: x\npartitions: 0\nsource: {schema: missing.avsc, keyField: id}\n');
    const result = spawnSync(kelt, ['validate', spec], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('partitions: Too small');
    expect(result.stderr).toContain('staging: Invalid input');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints the package version', () => {
    expect(execFileSync(kelt, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

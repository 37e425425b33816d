import { execFileSync } from 'node:child_process';
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

  it('prints the package version', () => {
    expect(execFileSync(kelt, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

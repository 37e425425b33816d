import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const rules = fileURLToPath(new URL('../../docker/monitoring/kelt-alerts.yml', import.meta.url));
const ruleTests = fileURLToPath(new URL('./kelt-alerts.test.yml', import.meta.url));

describe('Prometheus alert rules (promtool)', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run(inject('tools').promtool, ['check', 'rules', rules]);
    expect(stdout).toContain('SUCCESS: 10 rules found');
  });

  it("pass promtool's unit tests: each alert fires on its series and stays quiet on healthy ones", async () => {
    // promtool exits non-zero and prints the differing alerts when a case fails.
    const { stdout } = await run(inject('tools').promtool, ['test', 'rules', ruleTests]).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(stdout).toContain('SUCCESS');
  });
});

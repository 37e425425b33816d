import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectExactlyOnce, faultRun, stack } from '../support/fault-run.ts';

describe('fault: MariaDB stopped for 20 s', () => {
  it('pauses the MySQL stages, recovers when the database returns, and dead-letters nothing', async () => {
    let logs: string[] = [];
    const counts = await faultRun({
      scenario: 'MariaDB stopped for 20 s',
      events: 30_000,
      rate: 1_000,
      faults: async ({ members, at }) => {
        await at(4);
        await stack('stop', 'mariadb');
        await at(24);
        await stack('start', 'mariadb');
        logs = ['load', 'transform'].map((stage) => members.get(stage as 'load')![0]!.logFile);
      },
    });
    expectExactlyOnce(counts, 30_000);
    for (const log of logs) {
      const text = readFileSync(log, 'utf8');
      expect(text, log).toContain('transient failure; fetching paused');
      expect(text, log).toContain('recovered; fetching resumed');
    }
  });
});

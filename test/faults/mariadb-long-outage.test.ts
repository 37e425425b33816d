import { describe, it } from 'vitest';
import { expectExactlyOnce, faultRun, stack } from '../support/fault-run.ts';

describe('fault: MariaDB down for 90 s, longer than the session, with members added and partitions assigned meanwhile', () => {
  it('keeps the members in their groups, reassigns partitions without MySQL, and loses or repeats nothing', async () => {
    const counts = await faultRun({
      scenario: 'MariaDB down 90 s, members added while it is down',
      events: 30_000,
      rate: 1_000,
      faults: async ({ addMember, at }) => {
        await at(4);
        await stack('stop', 'mariadb');
        // A rebalance while MySQL is away: every member's positions must be
        // read again before it writes, and cannot be until MySQL is back.
        await at(40);
        await Promise.all([addMember('load'), addMember('transform')]);
        await at(94);
        await stack('start', 'mariadb');
      },
    });
    expectExactlyOnce(counts, 30_000);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StageName } from '../../src/pipeline/topology.ts';
import { expectExactlyOnce, faultRun, stack } from '../support/fault-run.ts';

describe('fault: the schema registry stopped for 20 s', () => {
  it('pauses members that need a schema, recovers when the registry returns, and dead-letters nothing', async () => {
    const fresh: string[] = [];
    const counts = await faultRun({
      scenario: 'schema registry stopped for 20 s',
      events: 30_000,
      rate: 1_000,
      faults: async ({ members, addMember, at }) => {
        await at(4);
        await stack('stop', 'registry');
        // Members started now have no schema cached: they must wait for the registry, not fail.
        for (const stage of ['extract', 'load', 'transform'] as StageName[]) {
          await members.get(stage)![0]!.signal('SIGKILL');
          fresh.push((await addMember(stage)).logFile);
        }
        await at(24);
        await stack('start', 'registry');
      },
    });
    expectExactlyOnce(counts, 30_000);
    expect(fresh.some((log) => readFileSync(log, 'utf8').includes('schema registry at'))).toBe(true);
  });
});

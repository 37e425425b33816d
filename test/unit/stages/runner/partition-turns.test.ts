import { describe, expect, it } from 'vitest';
import { PartitionTurns } from '../../../../src/stages/runner/partition-turns.ts';

const settledYet = async (promise: Promise<void>) => {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

describe('PartitionTurns', () => {
  it('lets a partition’s batch start only after every earlier one of it has ended', async () => {
    const turns = new PartitionTurns();
    const first = turns.take('in', 0);
    const second = turns.take('in', 0);
    const third = turns.take('in', 0);
    const other = turns.take('in', 1);
    expect(await settledYet(first.previous)).toBe(true);
    expect(await settledYet(other.previous)).toBe(true);
    expect(await settledYet(second.previous)).toBe(false);
    // The second gives up while still waiting: the third must still wait for the first.
    second.end();
    expect(await settledYet(third.previous)).toBe(false);
    first.end();
    expect(await settledYet(third.previous)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import { MarkerCommits } from '../../../../src/stages/runner/marker-commits.ts';
import { OffsetCommitter } from '../../../../src/stages/runner/offset-committer.ts';
import { PartitionTurns } from '../../../../src/stages/runner/partition-turns.ts';

const logger = createLogger('silent');

function markersWith(commitPast: ((topic: string, partition: number, offset: string) => Promise<void>) | undefined, ours = () => true) {
  const commits: string[] = [];
  const committer = new OffsetCommitter(async (_topic, partition, offset) => void commits.push(`${partition}@${offset}`), logger);
  committer.joined(1);
  const turns = new PartitionTurns();
  const markers = new MarkerCommits({
    processor: commitPast === undefined ? {} : { commitPast },
    committer,
    turns,
    stillOurs: ours,
    policy: { initialMs: 1, maxMs: 1 },
    logger,
  });
  return { markers, commits, committer, turns };
}

describe('MarkerCommits', () => {
  it('commits past the markers through the committer when the processor has no transactions', async () => {
    const { markers, commits } = markersWith(undefined);
    await markers.commitPast('in', 0, '5', 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toEqual(['0@5']);
  });

  it('commits through the processor’s transaction in the partition’s turn, retrying transient failures, and remembers it', async () => {
    const order: string[] = [];
    let failures = 1;
    const { markers, turns, committer, commits } = markersWith(async (_topic, partition, offset) => {
      if (failures-- > 0) throw new TransientError('coordinator away');
      order.push(`past ${partition}@${offset}`);
    });
    const batch = turns.take('in', 0);
    const done = markers.commitPast('in', 0, '5', 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    batch.end();
    await done;
    expect(order).toEqual(['past 0@5']);
    expect(await committer.commit('in', 0, '4', 1)).toBe(false);
    expect(commits).toEqual([]);
  });

  it('gives up quietly on a permanent failure, or when the partition is no longer this member’s', async () => {
    const calls: string[] = [];
    const broken = markersWith(async () => {
      calls.push('broken');
      throw new PermanentError('refused');
    });
    await broken.markers.commitPast('in', 0, '5', 1);
    const given = markersWith(
      async () => void calls.push('given'),
      () => false,
    );
    await given.markers.commitPast('in', 0, '5', 1);
    expect(calls).toEqual(['broken']);
  });
});

import { describe, expect, it } from 'vitest';
import { StaleBatchError, TransientError } from '../../../src/errors.ts';
import { PartitionTransactions } from '../../../src/kafka/partition-transactions.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { originHeadersOf, skipRepeats } from '../../../src/records/record-origin.ts';
import { FakeCluster } from '../../support/fake-cluster.ts';

const logger = createLogger('silent');

/**
 * One attempt at the batch of offsets [first, nextOffset) of partition in/0,
 * as the stage runner makes it: settle, drop what is committed, run the rest.
 * Resolves with the offsets it sent.
 */
async function attempt(transactions: PartitionTransactions, first: number, nextOffset: number): Promise<number[]> {
  const floor = await transactions.settle('in', 0);
  const offsets = Array.from({ length: nextOffset - first }, (_, i) => first + i).filter((o) => floor === undefined || BigInt(o) >= floor);
  if (offsets.length === 0) return [];
  const batch = offsets.map((o) => ({ key: `k${o}`, value: `v${o}`, headers: originHeadersOf(0, String(o), undefined) }));
  await transactions.run('in', 0, String(nextOffset), async (sink) => sink.send('out', batch, 1));
  return offsets;
}

const sentValues = (cluster: FakeCluster) => cluster.topic.map((record) => record.value);
const values = (first: number, end: number) => Array.from({ length: end - first }, (_, i) => `v${first + i}`);

describe('PartitionTransactions', () => {
  it('commits a batch with its offset', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    await attempt(transactions, 0, 10);
    expect(sentValues(cluster)).toEqual(values(0, 10));
    expect(await cluster.committedOffset('g', 'in', 0)).toBe(10n);
  });

  it('never sends a batch again when its commit landed but the answer was lost', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    cluster.nextCommit = 'lost-reply';
    await expect(attempt(transactions, 0, 10)).rejects.toBeInstanceOf(TransientError);
    // The retry of the same batch settles the earlier transaction first.
    expect(await attempt(transactions, 0, 10)).toEqual([]);
    expect(sentValues(cluster)).toEqual(values(0, 10));
    expect(await cluster.committedOffset('g', 'in', 0)).toBe(10n);
    // And the partition goes on normally afterwards.
    expect(await attempt(transactions, 10, 15)).toEqual([10, 11, 12, 13, 14]);
    expect(sentValues(cluster)).toEqual(values(0, 15));
    expect(await transactions.settle('in', 0)).toBe(15n);
  });

  it('sends only the new records of a batch fetched again longer than the one whose answer was lost', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    cluster.nextCommit = 'lost-reply';
    await expect(attempt(transactions, 0, 10)).rejects.toBeInstanceOf(TransientError);
    // Fetched again from offset 0, the batch now reaches offset 24.
    expect(await attempt(transactions, 0, 25)).toEqual(values(10, 25).map((v) => Number(v.slice(1))));
    expect(sentValues(cluster)).toEqual(values(0, 25));
    expect(await cluster.committedOffset('g', 'in', 0)).toBe(25n);
  });

  it('sends a batch again when the group coordinator dropped its committed offsets (KAFKA-20634), and the copy is recognised by its origin downstream', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    await attempt(transactions, 0, 5);
    cluster.nextCommit = 'offsets-dropped';
    await expect(attempt(transactions, 5, 10)).rejects.toBeInstanceOf(TransientError);
    // Settled through a new producer, the transaction is complete, its records are in
    // the topic, and the group's offset still says 5: the batch goes out a second time.
    expect(await attempt(transactions, 5, 10)).toEqual([5, 6, 7, 8, 9]);
    expect(sentValues(cluster)).toEqual([...values(0, 10), ...values(5, 10)]);
    const downstream = cluster.topic.map((record, offset) => ({
      key: null,
      value: Buffer.from(String(record.value)),
      offset: String(offset),
      timestamp: '0',
      headers: record.headers,
    }));
    const { fresh, repeats } = skipRepeats(downstream, new Map());
    expect(fresh.map((record) => String(record.value))).toEqual(values(0, 10));
    expect(repeats.map((record) => String(record.value))).toEqual(values(5, 10));
  });

  it('commits past a range with nothing to process in a transaction of its own, unless the group is there already', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    await attempt(transactions, 0, 5);
    await transactions.commitPast('in', 0, '7');
    expect(await cluster.committedOffset('g', 'in', 0)).toBe(7n);
    await transactions.commitPast('in', 0, '6');
    expect(await cluster.committedOffset('g', 'in', 0)).toBe(7n);
    expect(await attempt(transactions, 7, 9)).toEqual([7, 8]);
    expect(sentValues(cluster)).toEqual([...values(0, 5), ...values(7, 9)]);
  });

  it('refuses a transaction of a partition it has not settled', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    await expect(transactions.run('in', 0, '1', async (sink) => sink.send('out', [{ key: 'k0', value: 'v0' }], 1))).rejects.toThrow(/settle it/);
    expect(cluster.inits).toBe(0);
  });

  it('skips what an older owner committed after the records were fetched again', async () => {
    const cluster = new FakeCluster();
    const owner = new PartitionTransactions(cluster, 'g', logger);
    const next = new PartitionTransactions(cluster, 'g', logger);
    // The owner settles and runs; the next owner fetched from offset 0 before that commit landed.
    await attempt(owner, 0, 10);
    expect(await attempt(next, 0, 12)).toEqual([10, 11]);
    expect(sentValues(cluster)).toEqual(values(0, 12));
  });

  it('sends the batch again when the unanswered commit had not landed', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    cluster.nextCommit = 'refused';
    await expect(attempt(transactions, 0, 10)).rejects.toBeInstanceOf(TransientError);
    expect(await attempt(transactions, 0, 10)).toHaveLength(10);
    expect(sentValues(cluster)).toEqual(values(0, 10));
  });

  it('stays unsettled while the coordinator cannot be reached, and settles once it can', async () => {
    const cluster = new FakeCluster();
    const transactions = new PartitionTransactions(cluster, 'g', logger);
    cluster.nextCommit = 'lost-reply';
    await expect(attempt(transactions, 0, 10)).rejects.toBeInstanceOf(TransientError);
    cluster.failInits = 2;
    await expect(attempt(transactions, 0, 10)).rejects.toBeInstanceOf(TransientError);
    await expect(attempt(transactions, 0, 10)).rejects.toBeInstanceOf(TransientError);
    expect(await attempt(transactions, 0, 10)).toEqual([]);
    expect(sentValues(cluster)).toEqual(values(0, 10));
  });

  it('reports a fenced producer as a stale batch, and does not settle what the new owner settles', async () => {
    const cluster = new FakeCluster();
    const zombie = new PartitionTransactions(cluster, 'g', logger);
    await attempt(zombie, 0, 5);
    const owner = new PartitionTransactions(cluster, 'g', logger);
    await attempt(owner, 5, 10);
    await expect(attempt(zombie, 5, 10)).rejects.toBeInstanceOf(StaleBatchError);
    expect(sentValues(cluster)).toEqual(values(0, 10));
    const initsBefore = cluster.inits;
    cluster.nextCommit = 'fenced';
    await expect(attempt(owner, 10, 15)).rejects.toBeInstanceOf(StaleBatchError);
    // A fenced member must not initialise the id again (that would fence the owner in turn) unless it runs a batch.
    expect(cluster.inits).toBe(initsBefore);
  });

  describe('an input topic deleted and created again under the same name', () => {
    it('commits each offset with its topic’s id, and takes an offset of the old topic for none', async () => {
      const cluster = new FakeCluster();
      cluster.topicIds.set('in', 'a'.repeat(32));
      await attempt(new PartitionTransactions(cluster, 'g', logger), 0, 10);
      expect(await cluster.committedPosition('g', 'in', 0)).toEqual({ offset: 10n, topicId: 'a'.repeat(32) });

      cluster.topicIds.set('in', 'b'.repeat(32));
      const restarted = new PartitionTransactions(cluster, 'g', logger);
      expect(await restarted.committedForOtherTopic('in', [0, 1])).toEqual([0]);
      expect(await attempt(restarted, 0, 3)).toEqual([0, 1, 2]);
      expect(await cluster.committedPosition('g', 'in', 0)).toEqual({ offset: 3n, topicId: 'b'.repeat(32) });
    });

    it('forgets what it committed when a batch starts below it and the topic’s id changed, not when only fetched again', async () => {
      const cluster = new FakeCluster();
      cluster.topicIds.set('in', 'a'.repeat(32));
      const transactions = new PartitionTransactions(cluster, 'g', logger);
      await attempt(transactions, 0, 10);
      expect(await transactions.settle('in', 0, '4')).toBe(10n);
      cluster.topicIds.set('in', 'b'.repeat(32));
      expect(await transactions.settle('in', 0, '0')).toBeUndefined();
    });

    it('trusts an offset committed without a topic id (before kelt stamped one)', async () => {
      const cluster = new FakeCluster();
      await attempt(new PartitionTransactions(cluster, 'g', logger), 0, 10);
      cluster.topicIds.set('in', 'b'.repeat(32));
      expect(await new PartitionTransactions(cluster, 'g', logger).settle('in', 0, '0')).toBe(10n);
    });
  });
});

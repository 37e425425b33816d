import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';
import { retryingConcurrentTransactions, retryWhileTransactionCompletes } from '../../../src/kafka/kafkajs-transaction-retry-fix.ts';

const require = createRequire(import.meta.url);
// kafkajs's own protocol errors, as its broker requests throw them.
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };
const concurrentTransactions = () => createErrorFromCode(51);
const notCoordinator = () => createErrorFromCode(16);

/** A request refused `refusals` times with `error`, then answered. */
function refusedRequest(refusals: number, error: () => Error) {
  const calls: unknown[][] = [];
  return {
    calls,
    request: async (...args: unknown[]) => {
      calls.push(args);
      if (calls.length <= refusals) throw error();
      return 'done';
    },
  };
}

describe('kafkajs fix: CONCURRENT_TRANSACTIONS retried from 20 ms', () => {
  it('retries while the previous transaction completes, then answers', async () => {
    const refused = refusedRequest(3, concurrentTransactions);
    await expect(retryWhileTransactionCompletes(() => refused.request(), [1, 1, 1, 1])).resolves.toBe('done');
    expect(refused.calls).toHaveLength(4);
  });

  it('passes the error on once the waits are spent', async () => {
    const refused = refusedRequest(10, concurrentTransactions);
    await expect(retryWhileTransactionCompletes(() => refused.request(), [1, 1])).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect(refused.calls).toHaveLength(3);
  });

  it('passes every other error on at once, for kafkajs and kelt to handle as before', async () => {
    const refused = refusedRequest(1, notCoordinator);
    await expect(retryWhileTransactionCompletes(() => refused.request(), [1, 1])).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    expect(refused.calls).toHaveLength(1);
  });

  it('retries AddPartitionsToTxn and AddOffsetsToTxn of the eosManager with their arguments, and nothing else', async () => {
    const partitions = refusedRequest(2, concurrentTransactions);
    const offsets = refusedRequest(1, concurrentTransactions);
    const commit = refusedRequest(1, concurrentTransactions);
    const create = retryingConcurrentTransactions(
      () => ({ addPartitionsToTransaction: partitions.request, sendOffsets: offsets.request, commit: commit.request }),
      [1, 1, 1],
    );
    const manager = create({}) as ReturnType<typeof create> & { commit(): Promise<unknown> };
    await manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    await manager.sendOffsets({ consumerGroupId: 'g', topics: [] });
    await expect(manager.commit()).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect(partitions.calls).toEqual(Array(3).fill([[{ topic: 't', partitions: [{ partition: 0 }] }]]));
    expect(offsets.calls).toEqual(Array(2).fill([{ consumerGroupId: 'g', topics: [] }]));
    expect(commit.calls).toHaveLength(1);
  });

  it('is the eosManager kafkajs producers are made with', () => {
    expect(kafkajsPatched('producer/eosManager/index.js')).toBe(true);
  });
});

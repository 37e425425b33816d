import { setTimeout as sleep } from 'node:timers/promises';
import { isConcurrentTransactionsError } from './errors.ts';
import { patchKafkajsModule } from './kafkajs-patch.ts';

/**
 * A fix for kafkajs 2.2.4's transactions. A transaction begun right after
 * the previous one of its transactional id committed is refused with
 * CONCURRENT_TRANSACTIONS until the coordinator has written the previous
 * one's commit markers: the normal case for a stage committing batch after
 * batch of a partition, and a long one on a cluster that replicates the
 * markers (or while a broker is away). kafkajs does not retry AddOffsetsToTxn
 * at all (kafkajs #430), so the offsets of a transaction that produced
 * nothing (transform's) failed the batch, which then ran again through a
 * new producer; AddPartitionsToTxn it retries only through the send's
 * retries, from 100 ms (kafkajs #304). The Java client retries both from
 * 20 ms (KAFKA-5477).
 *
 * The fix wraps the transactional state of each producer (the eosManager)
 * so that both requests are retried on this error alone, after each of
 * `concurrentTransactionWaitsMs`; every other error, and this one once the
 * waits are spent, passes on as before. Both requests may be repeated:
 * adding a partition or a group already in the transaction is a no-op, and
 * TxnOffsetCommit overwrites the offsets it sent.
 */
export const concurrentTransactionWaitsMs: readonly number[] = [20, 20, 40, 80, 160, 320, ...Array<number>(30).fill(320)];

interface EosManager {
  addPartitionsToTransaction(...args: unknown[]): Promise<unknown>;
  sendOffsets(...args: unknown[]): Promise<unknown>;
}

type CreateEosManager = (options: unknown) => EosManager;

/** Runs `request`, again after each wait while it is refused with CONCURRENT_TRANSACTIONS. */
export async function retryWhileTransactionCompletes<T>(
  request: () => Promise<T>,
  waitsMs: readonly number[] = concurrentTransactionWaitsMs,
): Promise<T> {
  for (const waitMs of waitsMs) {
    try {
      return await request();
    } catch (error) {
      if (!isConcurrentTransactionsError(error)) throw error;
      await sleep(waitMs);
    }
  }
  return request();
}

export function retryingConcurrentTransactions(create: CreateEosManager, waitsMs?: readonly number[]): CreateEosManager {
  return (options) => {
    const manager = create(options);
    const { addPartitionsToTransaction, sendOffsets } = manager;
    return Object.assign(manager, {
      addPartitionsToTransaction: (...args: unknown[]) => retryWhileTransactionCompletes(() => addPartitionsToTransaction(...args), waitsMs),
      sendOffsets: (...args: unknown[]) => retryWhileTransactionCompletes(() => sendOffsets(...args), waitsMs),
    });
  };
}

patchKafkajsModule<CreateEosManager>('producer/eosManager/index.js', 'producer/index.js', (create) => retryingConcurrentTransactions(create));

import { patchKafkajsModule } from './kafkajs-patch.ts';

/**
 * A fix for kafkajs 2.2.4's read_committed consumer, which hands out records
 * of aborted transactions.
 *
 * A fetch answer lists the aborted transactions overlapping it (producer id
 * and first offset), in the order their abort markers were written, not by
 * first offset. kafkajs's filter (consumer/filterAbortedMessages.js) walks
 * that list as if it were sorted by first offset, and starts at most one
 * aborted transaction per record. When transactions of several producers
 * interleave in a partition and more than one is aborted (a transaction
 * coordinator failing over aborts every open transaction it holds), a
 * transaction whose abort marker comes after another's is recognised late or
 * never: its records reach the consumer although they were aborted, beside
 * the copies the retried transaction committed. The coordinator-loss fault
 * test counted them as duplicates in the extracted and loaded topics. The
 * filter also ends an aborted transaction at any record whose key is the
 * four bytes of an abort marker's key, control record or not: a data record
 * keyed by a 32-bit zero did that.
 *
 * The replacement is the Java consumer's algorithm: aborted transactions
 * sorted by first offset; every one whose first offset a record has reached
 * marks its producer aborted; the producer's abort marker (a control record)
 * ends it; a transactional record of a producer marked aborted is dropped.
 */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

/** A control record's key: version (int16) and type (int16), ABORT = 0. */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

function isAbortMarker(record: FetchedRecord): boolean {
  return record.isControlRecord && record.key !== null && ABORT_MARKER_KEY.equals(record.key);
}

/** The records of a fetch that are not in an aborted transaction (control records kept, for kafkajs to drop). */
export function withoutAbortedRecords<T extends FetchedRecord>({
  messages,
  abortedTransactions,
}: {
  messages: T[];
  abortedTransactions?: AbortedTransaction[] | null;
}): T[] {
  if (abortedTransactions === undefined || abortedTransactions === null || abortedTransactions.length === 0) return messages;
  const pending = abortedTransactions
    .map(({ producerId, firstOffset }) => ({ producerId, firstOffset: BigInt(firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborted = new Set<string>();
  let next = 0;
  return messages.filter((record) => {
    const offset = BigInt(record.offset);
    while (next < pending.length && pending[next]!.firstOffset <= offset) aborted.add(pending[next++]!.producerId);
    const { producerId, inTransaction } = record.batchContext;
    if (isAbortMarker(record)) {
      aborted.delete(producerId);
      return true;
    }
    return !(inTransaction && aborted.has(producerId));
  });
}

patchKafkajsModule('consumer/filterAbortedMessages.js', 'consumer/batch.js', () => withoutAbortedRecords);

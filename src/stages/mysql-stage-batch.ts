import type { ConsumedRecord } from '../kafka/records.ts';
import type { Rejected } from '../mysql/batch-writer.ts';
import type { DeadLetterLog } from '../mysql/dead-letter-log.ts';
import type { Queryable } from '../mysql/queryable.ts';
import type { PartitionPositions } from '../mysql/partition-positions.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { PartitionBatch } from './batch-processor.ts';

/** What a MySQL stage needs of its partitions' MySQL positions (PartitionPositions). */
export type StagePositions = Pick<PartitionPositions, 'of' | 'advance' | 'advanced' | 'assigned'>;

/** What a MySQL stage needs of its dead-letter log (DeadLetterLog). */
export type StageDeadLetterLog = Pick<DeadLetterLog, 'record' | 'between'>;

/**
 * A MySQL stage's batch cut at the partition's MySQL position. A batch
 * starts at the group's Kafka offset, which trails the MySQL position when a
 * member stopped between its MySQL commit and its Kafka commit; the records
 * between the two are written already and must not be written again (a
 * later record of the same key may be in MySQL since), but their output and
 * dead letters still go to Kafka.
 */
export interface PositionedBatch {
  /** Records below the position: written (or dead-lettered) before. */
  written: ConsumedRecord[];
  /** Records at or past the position: still to write. */
  pending: ConsumedRecord[];
  /** The dead letters of the written part, as logged when it was written. */
  writtenLetters: DeadLetter[];
}

export async function positionBatch(positions: StagePositions, log: StageDeadLetterLog, batch: PartitionBatch): Promise<PositionedBatch> {
  const position = await positions.of(batch.partition);
  if (position === undefined || BigInt(batch.messages[0]!.offset) >= position) {
    return { written: [], pending: batch.messages, writtenLetters: [] };
  }
  const cut = batch.messages.findIndex((message) => BigInt(message.offset) >= position);
  const written = cut === -1 ? batch.messages : batch.messages.slice(0, cut);
  const pending = cut === -1 ? [] : batch.messages.slice(cut);
  const logged = await log.between(batch.partition, written[0]!.offset, position.toString());
  const writtenLetters = written.flatMap((message) => {
    const letter = logged.get(message.offset);
    return letter === undefined ? [] : [{ topic: batch.topic, partition: batch.partition, message, reason: letter.reason, error: letter.error }];
  });
  return { written, pending, writtenLetters };
}

/** How many records of the part written before landed as rows (the rest were dead-lettered). */
export const rowsWrittenBefore = ({ written, writtenLetters }: PositionedBatch): number => written.length - writtenLetters.length;

/** Dead letters in the order of their records' offsets (the DLQ keeps a partition's failures in order). */
export function inOffsetOrder(letters: DeadLetter[]): DeadLetter[] {
  return letters.sort((a, b) => (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
}

/**
 * The end of a MySQL stage's batch transaction: logs the batch's dead letters
 * (`dead`, and the items MySQL rejected) and moves the partition's position
 * past the batch, fenced against other members.
 */
export async function finishPositioned(
  connection: Queryable,
  { positions, log }: { positions: StagePositions; log: StageDeadLetterLog },
  batch: PartitionBatch,
  { dead, rejected }: { dead: readonly DeadLetter[]; rejected: ReadonlyArray<Rejected<{ message: ConsumedRecord }>> },
): Promise<void> {
  const letters = [
    ...dead.map(({ message, reason, error }) => ({ offset: message.offset, reason, error })),
    ...rejected.map(({ item, error }) => ({ offset: item.message.offset, reason: 'row_rejected' as const, error })),
  ];
  await log.record(connection, batch.partition, letters, batch.messages[0]!.offset);
  await positions.advance(connection, batch.partition, batch.nextOffset);
}

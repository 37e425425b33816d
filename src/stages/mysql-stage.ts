import type { PartitionTransactions } from '../kafka/partition-transactions.ts';
import type { ConsumedRecord, RecordSink } from '../kafka/records.ts';
import { writeBatch } from '../mysql/batch-writer.ts';
import type { MySqlPool } from '../mysql/pool.ts';
import type { Queryable } from '../mysql/queryable.ts';
import type { BatchAbilities, BatchReport, PartitionBatch, TopicPartition } from './batch-processor.ts';
import type { DeadLetter } from './dead-letter.ts';
import {
  finishPositioned,
  inOffsetOrder,
  positionBatch,
  rowsWrittenBefore,
  type StageDeadLetterLog,
  type StagePositions,
} from './mysql-stage-batch.ts';
import { TransactionalProcessor } from './transactional-processor.ts';

/** What a MySQL stage writes for one record. */
export interface WriteItem {
  message: ConsumedRecord;
}

/**
 * What a MySQL stage made of the records of a batch still to write: the
 * items to write and the records that are dead (or skipped) before MySQL.
 */
export interface MySqlWork<Item extends WriteItem> {
  items: Item[];
  /** Records dead-lettered before writing (undecodable, a failed transform). */
  dead: DeadLetter[];
  /** Records neither written nor dead-lettered: repeats of records applied before. */
  skipped?: number;
  /** Writes the items; called again item by item when MySQL rejects a row (see batch-writer.ts). */
  write(connection: Queryable, items: readonly Item[]): Promise<void>;
  /** Written in the batch's MySQL transaction after the rows, before its position moves. */
  recordApplied?(connection: Queryable): Promise<void>;
  /** The batch's MySQL transaction committed. */
  committed?(): void;
  /** The batch's MySQL transaction failed (it is rolled back). */
  abandoned?(): void;
  /** What the stage adds to the batch's report once MySQL committed. */
  report?(): Pick<BatchReport, 'repeated' | 'lateRows'>;
}

/** What every MySQL stage works with. */
export interface MySqlStageParts {
  mysql: MySqlPool;
  transactions: PartitionTransactions;
  positions: StagePositions;
  deadLetterLog: StageDeadLetterLog;
}

/**
 * A stage that writes each batch to MySQL exactly once (load, transform):
 * one MySQL transaction writes the rows, logs the batch's dead letters and
 * moves the partition's MySQL position (compare and set: a member that lost
 * the partition cannot write); then one Kafka transaction sends what the
 * stage forwards and the dead letters and commits the group's offset. No
 * MySQL transaction is open while Kafka is written. The group's Kafka offset
 * marks what has been committed downstream, MySQL's position what has been
 * written, which is never less: a batch starting below the MySQL position (a
 * member stopped between the two commits) does not write those records
 * again, and takes their dead letters from the log.
 *
 * A stage supplies how records become items (`prepare`) and what it
 * forwards to Kafka (`forward`); this class owns the order of the commits.
 */
export abstract class MySqlStage<Item extends WriteItem> extends TransactionalProcessor {
  protected readonly mysql: MySqlPool;
  protected readonly positions: StagePositions;
  private readonly deadLetterLog: StageDeadLetterLog;

  constructor(parts: MySqlStageParts) {
    super(parts.transactions);
    this.mysql = parts.mysql;
    this.positions = parts.positions;
    this.deadLetterLog = parts.deadLetterLog;
  }

  /** The items to write for the batch's records at or past its MySQL position. */
  protected abstract prepare(batch: PartitionBatch, pending: ConsumedRecord[]): Promise<MySqlWork<Item>>;

  /** Sends what the stage forwards of the batch's live records (not dead-lettered) in its Kafka transaction; returns how many. */
  protected async forward(_sink: RecordSink, _live: readonly ConsumedRecord[]): Promise<number> {
    return 0;
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<BatchReport> {
    const positioned = await positionBatch(this.positions, this.deadLetterLog, batch);
    const { pending, writtenLetters } = positioned;
    let written = rowsWrittenBefore(positioned);
    const dead: DeadLetter[] = [];
    let mysqlSeconds = 0;
    let added: ReturnType<NonNullable<MySqlWork<Item>['report']>> = {};
    if (pending.length > 0) {
      const work = await this.prepare(batch, pending);
      dead.push(...work.dead);
      const started = performance.now();
      const rejected = await writeBatch(this.mysql, work.items, work.write, async (connection, rejected) => {
        deadLetters.admit(pending.length, [...dead.map((letter) => letter.reason), ...rejected.map(() => 'row_rejected' as const)]);
        await work.recordApplied?.(connection);
        await finishPositioned(connection, { positions: this.positions, log: this.deadLetterLog }, batch, { dead, rejected });
      }).catch((error: unknown) => {
        work.abandoned?.();
        throw error;
      });
      this.positions.advanced(batch.partition, batch.nextOffset);
      work.committed?.();
      mysqlSeconds = (performance.now() - started) / 1000;
      written += pending.length - dead.length - rejected.length - (work.skipped ?? 0);
      for (const { item, error } of rejected) {
        dead.push({ topic: batch.topic, partition: batch.partition, message: item.message, reason: 'row_rejected', error });
      }
      added = work.report?.() ?? {};
    }
    const letters = inOffsetOrder([...writtenLetters, ...dead]);
    const deadOffsets = new Set(letters.map((letter) => letter.message.offset));
    const started = performance.now();
    let produced = 0;
    await this.transactions.run(batch.topic, batch.partition, batch.nextOffset, async (sink) => {
      produced = await this.forward(
        sink,
        batch.messages.filter((message) => !deadOffsets.has(message.offset)),
      );
      await deadLetters.send(sink, letters);
    });
    const kafkaSeconds = (performance.now() - started) / 1000;
    return { produced, written, deadLettered: letters.map((letter) => letter.reason), ...added, mysqlSeconds, kafkaSeconds };
  }

  override async onAssignment(owned: TopicPartition[]): Promise<void> {
    await super.onAssignment(owned);
    await this.positions.assigned(owned.map(({ partition }) => partition));
  }
}

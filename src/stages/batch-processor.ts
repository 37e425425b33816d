import type { ConsumedRecord, TopicPartition } from '../kafka/records.ts';
import type { DeadLetterQueue } from './dead-letter.ts';

export type { TopicPartition };

/** The records of one partition that one fetch returned, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: ConsumedRecord[];
  /**
   * Where the group's position goes once the batch is done: past its last
   * record and past any transaction commit markers that followed it.
   */
  nextOffset: string;
}

/** What a processor may do while it works on a batch (kafkajs's runner hands out the same kind of narrow interface). */
export interface BatchAbilities {
  heartbeat(): Promise<void>;
  deadLetters: DeadLetterQueue;
}

/** What a processor did with a batch: the figures behind the stage's metrics. */
export interface BatchReport {
  /** Records sent to the next topic. */
  produced: number;
  /**
   * Records of the batch that are in MySQL, counting those an earlier attempt
   * wrote: a batch is reported only once its Kafka transaction commits, so
   * rows whose Kafka half failed before are counted by the attempt that ends it.
   */
  written: number;
  /** Why each dead-lettered record of the batch failed (bounded labels). */
  deadLettered: string[];
  /** Records skipped as repeats of records applied before (the same origin, forwarded twice upstream). */
  repeated?: number;
  /** Per aggregate: rows that changed windows already final (late rows). */
  lateRows?: ReadonlyMap<string, number>;
  /** Time spent writing to MySQL, when the stage writes there. */
  mysqlSeconds?: number;
  /** Time spent in the batch's Kafka transaction, its commit included. */
  kafkaSeconds?: number;
}

export const emptyReport = (): BatchReport => ({ produced: 0, written: 0, deadLettered: [] });

/**
 * One stage's work on a batch: the contract between the runner
 * (`stage-runner.ts`) and each stage's processor (extract, load, transform).
 * When `processBatch` returns, every record is written or dead-lettered.
 */
export interface BatchProcessor {
  /**
   * Whether the processor commits the group's offsets itself, in a Kafka
   * transaction with its output. Otherwise the runner commits them once the
   * batch is processed.
   */
  readonly commitsOffsets: boolean;
  processBatch(batch: PartitionBatch, abilities: BatchAbilities): Promise<BatchReport>;
  /**
   * For a processor that commits offsets in transactions: the group's
   * committed offset of the partition, settled against other members'
   * transactions and this one's unanswered commits. It can lie past the
   * fetched batch's start (a transaction landed after the records were
   * fetched again); the runner drops the records below it.
   */
  settle?(topic: string, partition: number, fetchedFrom: string): Promise<bigint | undefined>;
  /**
   * For a processor that commits offsets in transactions: moves the group's
   * offset past a range with nothing to process (a fetch that held only
   * transaction markers or aborted records), in a transaction of the
   * partition's, so that no commit outside them can move the group back.
   */
  commitPast?(topic: string, partition: number, nextOffset: string): Promise<void>;
  /** The partitions this member owns after a (re)join; `seek` moves where fetching starts. */
  onAssignment?(owned: TopicPartition[], seek: (partition: number, offset: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** What a runner reports as it works; metrics and tests subscribe instead of being called from the stages. */
export interface StageEvents {
  /** A batch was processed and its offset committed (`messages` is the fetched batch, not a copy). */
  batch: [
    {
      topic: string;
      partition: number;
      messages: readonly ConsumedRecord[];
      /** From the fetched batch's arrival to its commit. */
      seconds: number;
      /** Of `seconds`, the wait before processing began (the partition's previous batch, a new assignment's work, a saturated pool). */
      waitedSeconds: number;
      /** When the batch arrived (epoch ms): a record's age on arrival is this minus its timestamp. */
      fetchedAtMs: number;
      report: BatchReport;
    },
  ];
  /** A transient failure; the batch is retried after `waitMs`. */
  retry: [{ topic: string; partition: number; attempt: number; waitMs: number; error: unknown }];
  /** Fetching paused because the worker pool is saturated (paused: true), or resumed. */
  backpressure: [{ paused: boolean; queue: number }];
  /** The member (re)joined its group with these partitions. */
  rebalance: [{ partitions: number[] }];
}

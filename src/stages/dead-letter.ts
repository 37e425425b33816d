import { deadLetterHeaders } from '../records/dead-letter-headers.ts';
import type { DeadLetterReason } from '../errors.ts';
import type { ConsumedRecord, OutgoingRecord, RecordSink } from '../kafka/records.ts';
import { loneRecordBytes } from '../kafka/send.ts';
import type { RecordLimitOf } from '../kafka/topic-limits.ts';
import type { DeadLetterBreaker } from './dead-letter-breaker.ts';
import { redactText } from '../log/redact.ts';

export { deadLetterReasons, type DeadLetterReason } from '../errors.ts';

/** A record a stage could not process, with why. */
export interface DeadLetter {
  topic: string;
  partition: number;
  message: ConsumedRecord;
  reason: DeadLetterReason;
  error: string;
}

export interface DeadLetterQueueOptions {
  /** The pipeline's DLQ topic. */
  topic: string;
  /** The stage whose letters these are (a header of each). */
  stage: string;
  /** Gives the DLQ topic's max.message.bytes (a letter over it goes without its value). */
  recordLimitOf?: RecordLimitOf;
  /** Refuses a flood of dead letters (none: every dead letter goes). */
  breaker?: DeadLetterBreaker | undefined;
}

/**
 * Dead letters for the pipeline's DLQ topic: the original key and bytes,
 * with headers naming the stage, the reason, the error and the original
 * topic/partition/offset. A dead letter keeps its original partition number,
 * so the DLQ holds a partition's failures in their order. They are sent with
 * the stage's other output, in its Kafka transaction where it has one.
 */
export class DeadLetterQueue {
  readonly topic: string;
  private readonly stage: string;
  private readonly recordLimitOf: RecordLimitOf;

  private readonly breaker: DeadLetterBreaker | undefined;

  constructor({ topic, stage, recordLimitOf = async () => Number.POSITIVE_INFINITY, breaker }: DeadLetterQueueOptions) {
    this.topic = topic;
    this.stage = stage;
    this.recordLimitOf = recordLimitOf;
    this.breaker = breaker;
  }

  /**
   * Before a batch of `records` records commits dead letters for these
   * `reasons` (one each): throws DeadLetterFloodError when they would be a
   * flood (see DeadLetterBreaker).
   */
  admit(records: number, reasons: readonly DeadLetterReason[]): void {
    this.breaker?.admit(records, reasons.length, reasons);
  }

  messages(letters: readonly DeadLetter[], recordLimit = Number.POSITIVE_INFINITY): OutgoingRecord[] {
    const failedAt = new Date().toISOString();
    return letters.map((letter) =>
      fitted(recordLimit, {
        key: letter.message.key,
        value: letter.message.value,
        partition: letter.partition,
        headers: {
          ...letter.message.headers,
          [deadLetterHeaders.stage]: this.stage,
          [deadLetterHeaders.reason]: letter.reason,
          // The DLQ is read by more people than the stage's secrets are: an error that quoted a URL or a password does not carry it there.
          [deadLetterHeaders.error]: redactText(letter.error).slice(0, 2_000),
          [deadLetterHeaders.originalTopic]: letter.topic,
          [deadLetterHeaders.originalPartition]: String(letter.partition),
          [deadLetterHeaders.originalOffset]: letter.message.offset,
          [deadLetterHeaders.failedAt]: failedAt,
        },
      }),
    );
  }

  /** Sends dead letters through a producer or a transaction. */
  async send(sink: RecordSink, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    // Every dead letter names its partition; the count is not needed to place them.
    await sink.send(this.topic, this.messages(letters, await this.recordLimitOf(this.topic)), 0);
  }
}

/**
 * A letter too large for the DLQ (its record was already at the limit, and
 * the headers add to it) goes without its value; the headers still name
 * the original record, which stays in its topic.
 */
function fitted(recordLimit: number, letter: OutgoingRecord): OutgoingRecord {
  if (loneRecordBytes(letter) <= recordLimit) return letter;
  const size = letter.value === null ? 0 : Buffer.byteLength(letter.value);
  return {
    ...letter,
    value: null,
    headers: { ...letter.headers, [deadLetterHeaders.valueOmitted]: `${size} bytes, over the DLQ's max.message.bytes` },
  };
}

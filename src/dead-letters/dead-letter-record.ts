import { deadLetterReasons, type DeadLetterReason } from '../errors.ts';
import { headerText, type ConsumedRecord, type OutgoingRecord, type RecordHeaders } from '../kafka/records.ts';
import { deadLetterHeaders } from '../records/dead-letter-headers.ts';
import { originHeaders } from '../records/record-origin.ts';

/** A dead letter as read back from the DLQ. */
export interface DeadLetterRecord {
  partition: number;
  offset: bigint;
  stage: string;
  reason: DeadLetterReason | 'unknown';
  error: string;
  failedAt: Date | undefined;
  original: { topic: string; partition: number; offset: bigint } | undefined;
  key: Buffer | null;
  /** Null when the record had none, or it was too large for the DLQ (then `valueOmitted` says so). */
  value: Buffer | null;
  valueOmitted: string | undefined;
  /** The record's own headers, without the dead-letter ones. */
  headers: Record<string, Buffer>;
}

const addedHeaders = new Set<string>(Object.values(deadLetterHeaders));

/** Reads a DLQ record; a record that is not a kelt dead letter reads with reason `unknown`. */
export function readDeadLetter(partition: number, record: ConsumedRecord): DeadLetterRecord {
  const text = (name: string) => headerText(record.headers, name);
  const reason = text(deadLetterHeaders.reason);
  const failedAt = text(deadLetterHeaders.failedAt);
  const originalTopic = text(deadLetterHeaders.originalTopic);
  const originalPartition = text(deadLetterHeaders.originalPartition);
  const originalOffset = text(deadLetterHeaders.originalOffset);
  const failedMs = failedAt === undefined ? Number.NaN : Date.parse(failedAt);
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (!addedHeaders.has(name) && first !== undefined) headers[name] = Buffer.from(first);
  }
  return {
    partition,
    offset: BigInt(record.offset),
    stage: text(deadLetterHeaders.stage) ?? 'unknown',
    reason: (deadLetterReasons as readonly string[]).includes(reason ?? '') ? (reason as DeadLetterReason) : 'unknown',
    error: text(deadLetterHeaders.error) ?? '',
    failedAt: Number.isNaN(failedMs) ? undefined : new Date(failedMs),
    original:
      originalTopic !== undefined && /^\d{1,10}$/.test(originalPartition ?? '') && /^\d{1,19}$/.test(originalOffset ?? '')
        ? { topic: originalTopic, partition: Number(originalPartition), offset: BigInt(originalOffset!) }
        : undefined,
    key: record.key,
    value: record.value,
    valueOmitted: text(deadLetterHeaders.valueOmitted),
    headers,
  };
}

/** Why a dead letter cannot go back to its topic; undefined when it can. */
export function redriveRefusal(letter: DeadLetterRecord): string | undefined {
  if (letter.original === undefined) return 'it does not name its original topic and partition';
  if (letter.valueOmitted !== undefined)
    return `its value was not kept (${letter.valueOmitted}); the record is still at ${letter.original.topic}[${letter.original.partition}]@${letter.original.offset} while the topic retains it`;
  return undefined;
}

/**
 * The record to produce again: the original key, value and headers into the
 * original topic and partition (the partition the record's key hashed to, or
 * extract re-keyed it to), marked with where it came back from. The origin
 * headers are left behind: they name the raw offset of the first attempt,
 * which the transform has passed already, so it would take the redriven
 * record for a repeat; a redrive is exactly once by its own transactions.
 */
export function redrivenRecord(letter: DeadLetterRecord): OutgoingRecord & { topic: string } {
  const { original } = letter;
  if (original === undefined || redriveRefusal(letter) !== undefined)
    throw new Error(`dead letter ${letter.partition}@${letter.offset} cannot be redriven: ${redriveRefusal(letter)}`);
  const headers: RecordHeaders = {};
  for (const [name, value] of Object.entries(letter.headers)) {
    if (!(Object.values(originHeaders) as string[]).includes(name)) headers[name] = value;
  }
  headers[deadLetterHeaders.redrivenFrom] = `${letter.partition}@${letter.offset}`;
  return { topic: original.topic, partition: original.partition, key: letter.key, value: letter.value, headers };
}

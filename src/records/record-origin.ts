import { headerText, type ConsumedRecord, type RecordHeaders } from '../kafka/records.ts';

/**
 * Where a record entered the pipeline: the raw topic's id, and the partition
 * and offset of `<p>.raw` that extract read it from, in the headers
 * `kelt.origin.topic`, `kelt.origin.partition` and `kelt.origin.offset`,
 * which load forwards unchanged. A loaded partition
 * receives the records of each raw partition in that partition's order
 * (extract and load each handle a partition one batch at a time, in order),
 * so a record whose origin is not past the last one transform applied from
 * its raw partition is a repeat: something upstream wrote a batch twice
 * (extract or load, when their group's offset moved back). Transform skips
 * it instead of counting it again. A raw topic deleted and created again
 * starts its offsets over under a new id: its records are a new origin, not
 * repeats.
 */
export const originHeaders = { topic: 'kelt.origin.topic', partition: 'kelt.origin.partition', offset: 'kelt.origin.offset' } as const;

export interface RecordOrigin {
  /** The raw topic's id (KIP-516), 32 hex digits: a topic deleted and created again is another origin. '' when not stamped. */
  topic: string;
  partition: number;
  offset: bigint;
}

/** Origin headers that are there but cannot be kelt's: the record is dead-lettered rather than moving a watermark. */
export interface MalformedOrigin {
  malformed: string;
}

export function originHeadersOf(partition: number, offset: string, topicId: string | undefined): RecordHeaders {
  return {
    ...(topicId === undefined ? {} : { [originHeaders.topic]: topicId }),
    [originHeaders.partition]: String(partition),
    [originHeaders.offset]: offset,
  };
}

const MAX_PARTITION = 2n ** 31n - 1n;
const MAX_OFFSET = 2n ** 63n - 1n;

/**
 * The record's origin; undefined when it carries none (written by something
 * other than kelt's stages, or before they stamped it); malformed when its
 * origin headers are there but are not a partition and offset Kafka can have.
 */
export function originOf(record: ConsumedRecord): RecordOrigin | MalformedOrigin | undefined {
  const topic = headerText(record.headers, originHeaders.topic);
  const partition = headerText(record.headers, originHeaders.partition);
  const offset = headerText(record.headers, originHeaders.offset);
  if (topic === undefined && partition === undefined && offset === undefined) return undefined;
  if (partition === undefined || !/^\d{1,10}$/.test(partition) || BigInt(partition) > MAX_PARTITION)
    return { malformed: `the header ${originHeaders.partition} is not a partition number: ${JSON.stringify(partition ?? null)}` };
  if (offset === undefined || !/^\d{1,19}$/.test(offset) || BigInt(offset) > MAX_OFFSET)
    return { malformed: `the header ${originHeaders.offset} is not an offset: ${JSON.stringify(offset ?? null)}` };
  if (topic !== undefined && !/^[0-9a-f]{32}$/.test(topic))
    return { malformed: `the header ${originHeaders.topic} is not a topic id: ${JSON.stringify(topic)}` };
  return { topic: topic ?? '', partition: Number(partition), offset: BigInt(offset) };
}

/** An origin's key among a partition's applied origins: the raw topic's id ('' when not stamped) and partition. */
export const originKey = (origin: Pick<RecordOrigin, 'topic' | 'partition'>): string => `${origin.topic}/${origin.partition}`;

/**
 * Per origin (raw topic id and partition, `originKey`), the next origin
 * offset not yet applied: a record whose origin lies below it was applied before.
 */
export type AppliedOrigins = Map<string, bigint>;

/**
 * Splits records (in offset order) into those to apply, the repeats of
 * records applied before (per `applied`) or earlier in the same list, and
 * those whose origin headers are malformed. Records without an origin are
 * always applied. Returns the watermarks moved past what is applied, leaving
 * `applied` as it was.
 */
export function skipRepeats<T extends ConsumedRecord>(
  records: readonly T[],
  applied: ReadonlyMap<string, bigint>,
): { fresh: T[]; repeats: T[]; malformed: Array<{ record: T; error: string }>; applied: AppliedOrigins } {
  const next = new Map(applied);
  const fresh: T[] = [];
  const repeats: T[] = [];
  const malformed: Array<{ record: T; error: string }> = [];
  for (const record of records) {
    const origin = originOf(record);
    if (origin === undefined) {
      fresh.push(record);
      continue;
    }
    if ('malformed' in origin) {
      malformed.push({ record, error: origin.malformed });
      continue;
    }
    const key = originKey(origin);
    if (origin.offset < (next.get(key) ?? 0n)) {
      repeats.push(record);
      continue;
    }
    next.set(key, origin.offset + 1n);
    fresh.push(record);
  }
  return { fresh, repeats, malformed, applied: next };
}

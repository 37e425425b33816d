import { headerText, type ConsumedRecord, type RecordHeaders } from '../kafka/records.ts';

/**
 * Where a record entered the pipeline: the partition and offset of `<p>.raw`
 * that extract read it from, in the headers `kelt.origin.partition` and
 * `kelt.origin.offset`, which load forwards unchanged. A loaded partition
 * receives the records of each raw partition in that partition's order
 * (extract and load each handle a partition one batch at a time, in order),
 * so a record whose origin is not past the last one transform applied from
 * its raw partition is a repeat: something upstream wrote a batch twice
 * (extract or load, when their group's offset moved back). Transform skips
 * it instead of counting it again.
 */
export const originHeaders = { partition: 'kelt.origin.partition', offset: 'kelt.origin.offset' } as const;

export interface RecordOrigin {
  partition: number;
  offset: bigint;
}

export function originHeadersOf(partition: number, offset: string): RecordHeaders {
  return { [originHeaders.partition]: String(partition), [originHeaders.offset]: offset };
}

/**
 * The record's origin; undefined when it carries none (written by something
 * other than kelt's stages, or before they stamped it) or one that is not kelt's.
 */
export function originOf(record: ConsumedRecord): RecordOrigin | undefined {
  const partition = headerText(record.headers, originHeaders.partition);
  const offset = headerText(record.headers, originHeaders.offset);
  if (partition === undefined || offset === undefined || !/^\d{1,10}$/.test(partition) || !/^\d{1,19}$/.test(offset)) return undefined;
  return { partition: Number(partition), offset: BigInt(offset) };
}

/**
 * Per raw partition, the next origin offset not yet applied: a record whose
 * origin lies below it was applied before.
 */
export type AppliedOrigins = Map<number, bigint>;

/**
 * Splits records (in offset order) into those to apply and the repeats of
 * records applied before (per `applied`) or earlier in the same list.
 * Records without an origin are always applied. Returns the watermarks
 * moved past what is applied, leaving `applied` as it was.
 */
export function skipRepeats<T extends ConsumedRecord>(
  records: readonly T[],
  applied: ReadonlyMap<number, bigint>,
): { fresh: T[]; repeats: T[]; applied: AppliedOrigins } {
  const next = new Map(applied);
  const fresh: T[] = [];
  const repeats: T[] = [];
  for (const record of records) {
    const origin = originOf(record);
    if (origin === undefined) {
      fresh.push(record);
      continue;
    }
    if (origin.offset < (next.get(origin.partition) ?? 0n)) {
      repeats.push(record);
      continue;
    }
    next.set(origin.partition, origin.offset + 1n);
    fresh.push(record);
  }
  return { fresh, repeats, applied: next };
}

import { createHash } from 'node:crypto';
import { PermanentError } from '../../errors.ts';
import type { Aggregate, GroupIncrement, Measure } from '../../pipeline/aggregates.ts';
import { epochMillisFloor, timestampText } from '../../values/temporal.ts';

/**
 * One aggregate's contribution of one source row: its window, its group and
 * the values its measures read, already as SQL parameters.
 */
export interface Contribution {
  /** The window's start as DATETIME(3) text; undefined for an aggregate without a window. */
  windowStart: string | undefined;
  /** The window's start in ms since the epoch (what replay floors compare). */
  windowStartMs: number | undefined;
  groupValues: unknown[];
  /** Per measure: the value it reads (undefined for count). */
  values: unknown[];
}

/**
 * A source row's contribution to an aggregate. `row` is the source table's
 * row as SQL parameters, `columnIndex` finds a column in it; `sumIsExact`
 * says whether a sum(column) adds integers (int, long) exactly.
 */
export function contributionOf(aggregate: Aggregate, row: readonly unknown[], columnIndex: (column: string) => number): Contribution {
  let windowStart: string | undefined;
  let windowStartMs: number | undefined;
  if (aggregate.window !== undefined) {
    const value = row[columnIndex(aggregate.window.column)];
    if (value === null || value === undefined) {
      throw new PermanentError(`${aggregate.name}: ${aggregate.window.column} is null, so the row has no window`, { reason: 'transform_error' });
    }
    const ms = epochMillisFloor(String(value));
    windowStartMs = Math.floor(ms / aggregate.window.sizeMs) * aggregate.window.sizeMs;
    windowStart = timestampText(windowStartMs, 'millis');
  }
  return {
    windowStart,
    windowStartMs,
    groupValues: aggregate.groupBy.map((column) => row[columnIndex(column)] ?? null),
    values: aggregate.measures.map((measure) => (measure.of === undefined ? undefined : (row[columnIndex(measure.of)] ?? null))),
  };
}

/** A group being summed up: its increment, and its count_distinct members by key (hashed once each). */
type GroupInProgress = GroupIncrement & { memberSets: Map<number, Map<string, Buffer>> };

/**
 * Pre-aggregates a batch's contributions to one aggregate: one increment per
 * group (a hot group costs one row write per batch, not one per record),
 * in key order so that concurrent members lock aggregate rows in one order.
 * `exactSums[m]`: whether measure m sums integers (as bigint) rather than doubles.
 *
 * Groups and members are told apart by their values' text (`keyOf`), and
 * hashed once per distinct group and member of the batch, not per row: the
 * hashing per row was a third of the transform's main thread.
 */
export function aggregateBatch(aggregate: Aggregate, contributions: Iterable<Contribution>, exactSums: readonly boolean[]): GroupIncrement[] {
  const groups = new Map<string, GroupInProgress>();
  const memberHashes = new Map<string, Buffer>();
  for (const contribution of contributions) {
    const groupValues = [contribution.windowStart ?? null, ...contribution.groupValues];
    const key = keyOf(groupValues);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        windowStart: contribution.windowStart,
        groupValues: contribution.groupValues,
        groupHash: hashOf(groupValues),
        measures: aggregate.measures.map((measure) => (measure.kind === 'count' ? 0 : null)),
        members: new Map(),
        memberSets: new Map(),
      };
      groups.set(key, group);
    }
    aggregate.measures.forEach((measure, m) => add(group, measure, m, contribution.values[m], exactSums[m] === true, memberHashes));
  }
  return [...groups.values()]
    .sort((a, b) => Buffer.compare(a.groupHash, b.groupHash))
    .map(({ memberSets, ...group }) => {
      for (const [m, members] of memberSets) group.members.set(m, [...members.values()].sort(Buffer.compare));
      return group;
    });
}

function add(group: GroupInProgress, measure: Measure, m: number, value: unknown, exact: boolean, memberHashes: Map<string, Buffer>): void {
  switch (measure.kind) {
    case 'count':
      group.measures[m] = (group.measures[m] as number) + 1;
      return;
    case 'count_distinct': {
      if (value === null) return;
      const members = group.memberSets.get(m) ?? new Map<string, Buffer>();
      const key = keyOf([value]);
      if (!members.has(key)) {
        let hash = memberHashes.get(key);
        if (hash === undefined) {
          hash = hashOf([value]);
          memberHashes.set(key, hash);
        }
        members.set(key, hash);
      }
      group.memberSets.set(m, members);
      return;
    }
    case 'sum': {
      if (value === null) return;
      const current = group.measures[m];
      group.measures[m] = exact ? ((current as bigint | null) ?? 0n) + integerOf(value, measure) : ((current as number | null) ?? 0) + Number(value);
      return;
    }
    case 'min':
    case 'max': {
      if (value === null) return;
      const current = group.measures[m] as number | bigint | string | null;
      const v = value as number | bigint | string;
      if (current === null || (measure.kind === 'min' ? v < current : v > current)) group.measures[m] = value;
      return;
    }
  }
}

function integerOf(value: unknown, measure: Measure): bigint {
  try {
    return BigInt(value as string | number | bigint);
  } catch (error) {
    throw new PermanentError(`sum(${measure.of}): ${String(value)} is not an integer`, { cause: error, reason: 'transform_error' });
  }
}

/**
 * 16 bytes of SHA-256 over SQL parameter values. A value is hashed as its
 * text, as a typed column stores it: 5 and '5' in an int column are one group.
 */
export function hashOf(values: readonly unknown[]): Buffer {
  const hash = createHash('sha256');
  for (const value of values) {
    if (value === null || value === undefined) hash.update('n;');
    else if (value instanceof Uint8Array) hash.update(`b${value.length};`).update(value);
    else {
      const text = String(value);
      hash.update(`v${Buffer.byteLength(text)};${text}`);
    }
  }
  return hash.digest().subarray(0, 16);
}

/** The values as one string that tells them apart exactly as `hashOf` does (each value's text, length-prefixed; bytes as hex). */
function keyOf(values: readonly unknown[]): string {
  let key = '';
  for (const value of values) {
    if (value === null || value === undefined) key += 'n;';
    else if (value instanceof Uint8Array) key += `b${value.length};${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
    else {
      const text = String(value);
      key += `v${text.length};${text}`;
    }
  }
  return key;
}

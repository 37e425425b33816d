import { createHash } from 'node:crypto';
import { PermanentError } from '../../errors.ts';
import type { Aggregate, GroupDelta, MeasureDelta, MeasureReading } from '../../pipeline/aggregates.ts';
import { valuesKey } from '../../pipeline/canonical-values.ts';
import { epochMillisFloor, timestampText } from '../../values/temporal.ts';

/**
 * One source row's contribution to one window and group of an aggregate:
 * added (+1, the row as it is now) or taken away (−1, the row as it was).
 * Values are canonical (canonical-values.ts), whichever side they came from.
 */
export interface Contribution {
  /** The window's start as DATETIME(3) text; undefined for an aggregate without a window. */
  windowStart: string | undefined;
  /** The window's start in ms since the epoch. */
  windowStartMs: number | undefined;
  groupValues: unknown[];
  /** Per measure: the value it reads (undefined for count). */
  values: unknown[];
  sign: 1 | -1;
}

/**
 * A source row's contributions to an aggregate (`row`: canonical values in
 * the source table's column order; `columnIndex` finds a column): one per
 * window that covers it (one for a tumbling window; size ÷ slide for a
 * hopping one), none when its window column is NULL — as GROUP BY over the
 * model table, such a row is in no window.
 */
export function contributionsOf(
  aggregate: Aggregate,
  row: readonly unknown[],
  columnIndex: (column: string) => number,
  sign: 1 | -1,
): Contribution[] {
  const groupValues = aggregate.groupBy.map((column) => row[columnIndex(column)] ?? null);
  const values = aggregate.measures.map((measure) => (measure.of === undefined ? undefined : (row[columnIndex(measure.of)] ?? null)));
  const { window } = aggregate;
  if (window === undefined) return [{ windowStart: undefined, windowStartMs: undefined, groupValues, values, sign }];
  const time = row[columnIndex(window.column)];
  if (time === null || time === undefined) return [];
  const ms = epochMillisFloor(String(time));
  const contributions: Contribution[] = [];
  for (let start = Math.floor(ms / window.slideMs) * window.slideMs; start > ms - window.sizeMs; start -= window.slideMs) {
    contributions.push({ windowStart: timestampText(start, 'millis'), windowStartMs: start, groupValues, values, sign });
  }
  return contributions;
}

/** Whether two lists of contributions (a row's old and new) are the same: then the row changes nothing. */
export function sameContributions(a: readonly Contribution[], b: readonly Contribution[]): boolean {
  return a.length === b.length && a.every((contribution, i) => contributionKey(contribution) === contributionKey(b[i]!));
}

function contributionKey({ windowStart, groupValues, values }: Contribution): string {
  return valuesKey([windowStart ?? null, ...groupValues, ...values]);
}

interface GroupInProgress {
  delta: GroupDelta;
  /** Per count_distinct measure: member key → its hash and change in rows. */
  members: Map<number, Map<string, { hash: Buffer; rows: number }>>;
}

/**
 * Sums a batch's contributions to one aggregate into one delta per group (a
 * hot group costs one row write per batch, not one per record), in key
 * order so that concurrent members lock aggregate rows in one order. Groups
 * and members are hashed once per distinct value of the batch, not per row.
 */
export function aggregateDeltas(aggregate: Aggregate, contributions: Iterable<Contribution>, reading: MeasureReading): GroupDelta[] {
  const groups = new Map<string, GroupInProgress>();
  const memberHashes = new Map<string, Buffer>();
  const { measures } = aggregate;
  for (const contribution of contributions) {
    const key = groupKey(contribution);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        delta: {
          windowStart: contribution.windowStart,
          windowStartMs: contribution.windowStartMs,
          groupValues: contribution.groupValues,
          groupHash: hashOf([contribution.windowStart ?? null, ...contribution.groupValues]),
          rows: 0,
          changes: 0,
          measures: measures.map((measure, m) => emptyDelta(measure.kind, reading.exactSums[m] === true)),
        },
        members: new Map(),
      };
      groups.set(key, group);
    }
    const { sign, values } = contribution;
    group.delta.rows += sign;
    group.delta.changes += 1;
    for (let m = 0; m < measures.length; m++) {
      const value = values[m];
      if (value === null || value === undefined) continue;
      const delta = group.delta.measures[m]!;
      switch (delta.kind) {
        case 'count':
          break;
        case 'count_distinct': {
          let members = group.members.get(m);
          if (members === undefined) group.members.set(m, (members = new Map()));
          const memberKey = typeof value === 'string' ? `s${value}` : valuesKey([value]);
          let member = members.get(memberKey);
          if (member === undefined) {
            let hash = memberHashes.get(memberKey);
            if (hash === undefined) memberHashes.set(memberKey, (hash = hashOf([value])));
            members.set(memberKey, (member = { hash, rows: 0 }));
          }
          member.rows += sign;
          break;
        }
        case 'sum':
          delta.nonNull += sign;
          if (typeof delta.sum === 'bigint') delta.sum += BigInt(sign) * integerOf(value, measures[m]!.of!);
          else delta.sum += sign * Number(value);
          break;
        case 'min':
        case 'max': {
          const field = sign > 0 ? 'added' : 'retracted';
          const current = delta[field];
          if (current === null) delta[field] = value;
          else {
            const order = reading.compares[m]!(value, current);
            if (delta.kind === 'min' ? order < 0 : order > 0) delta[field] = value;
          }
          break;
        }
      }
    }
  }
  const result: GroupDelta[] = [];
  for (const { delta, members } of groups.values()) {
    for (const [m, changes] of members) {
      const measure = delta.measures[m] as Extract<MeasureDelta, { kind: 'count_distinct' }>;
      measure.members = [...changes.values()].filter((member) => member.rows !== 0).sort((a, b) => Buffer.compare(a.hash, b.hash));
    }
    result.push(delta);
  }
  return result.sort((a, b) => Buffer.compare(a.groupHash, b.groupHash));
}

/** A contribution's window and group as one string (valuesKey's form, without building its array). */
function groupKey({ windowStart, groupValues }: Contribution): string {
  let key = windowStart === undefined ? 'n;' : windowStart;
  for (const value of groupValues) key += typeof value === 'string' ? `|v${value.length};${value}` : `|${valuesKey([value])}`;
  return key;
}

function emptyDelta(kind: MeasureDelta['kind'], exactSum: boolean): MeasureDelta {
  switch (kind) {
    case 'count':
      return { kind };
    case 'count_distinct':
      return { kind, members: [] };
    case 'sum':
      return { kind, sum: exactSum ? 0n : 0, nonNull: 0 };
    case 'min':
    case 'max':
      return { kind, added: null, retracted: null };
  }
}

function integerOf(value: unknown, column: string): bigint {
  try {
    return BigInt(value as string | number | bigint);
  } catch (error) {
    throw new PermanentError(`sum(${column}): ${String(value)} is not an integer`, { cause: error, reason: 'transform_error' });
  }
}

/**
 * 16 bytes of SHA-256 over canonical values. A value is hashed as its text,
 * as a typed column stores it: 5 and '5' in an int column are one group.
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

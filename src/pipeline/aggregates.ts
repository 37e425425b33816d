import { z } from 'zod';
import type { ModelTable } from './model-table.ts';

/**
 * Aggregate tables: a model table grouped, always. Each is a view of the
 * model table it is declared `from` (its rows counted, summed, min'd, max'd
 * and distinct-counted per group and per event-time window), kept by the
 * difference each batch makes to the model table's rows (an upsert, a
 * correction, a repeat, a delete), in the transform's MySQL transaction.
 */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a SQL identifier: letters, digits and _, at most 64');
const duration = z.string().regex(/^[1-9]\d*(ms|s|m|h|d)$/, 'must be a duration: 500ms, 30s, 15m, 1h, 1d');

/** A row counts in at most this many hopping windows: each is a group it changes in every batch. */
export const MAX_WINDOWS_PER_ROW = 100;

export const aggregateSpecSchema = z.strictObject({
  name: identifier
    .refine((name) => name.length <= 56, 'must be at most 56 characters (its members table adds _members)')
    .describe('The aggregate table’s name.'),
  from: identifier.describe('The model table whose rows are aggregated (one of transform.tables).'),
  groupBy: z.array(identifier).default([]).describe('Columns of the source table that make a group (any type; NULL is a group of its own).'),
  window: z
    .strictObject({
      column: identifier.describe('A timestamp column of the source table: the event time.'),
      size: duration.describe('The window’s length: 500ms, 30s, 15m, 1h, 1d.'),
      slide: duration
        .optional()
        .describe('How far apart windows start (hopping windows: a row counts in every window that covers it); the size when absent (tumbling).'),
      as: identifier.default('window_start').describe('The column holding the window’s start.'),
    })
    .optional()
    .describe('Event-time windows, aligned to the epoch (UTC): tumbling, or hopping with a slide.'),
  lateness: duration
    .optional()
    .describe(
      'Marks a window final (its `final` column) once the event-time watermark passes its end plus this; rows arriving later still count and are counted in `late_rows`.',
    ),
  measures: z
    .record(identifier, z.string())
    .refine((measures) => Object.keys(measures).length > 0, 'needs at least one measure')
    .describe('Column name → count | sum(column) | min(column) | max(column) | count_distinct(column).'),
});

export type AggregateSpecInput = z.input<typeof aggregateSpecSchema>;

export type MeasureKind = 'count' | 'sum' | 'min' | 'max' | 'count_distinct';

export interface Measure {
  /** The aggregate table's column. */
  name: string;
  kind: MeasureKind;
  /** The source table's column it reads (none for count). */
  of: string | undefined;
}

export interface Aggregate {
  name: string;
  /** The members table of count_distinct measures. */
  membersTable: string;
  from: string;
  groupBy: string[];
  window: { column: string; sizeMs: number; slideMs: number; as: string } | undefined;
  /** Windows become final once the watermark passes their end plus this (undefined: no final marking). */
  latenessMs: number | undefined;
  measures: Measure[];
}

/** The columns an aggregate table keeps besides its declared ones (its measures' bookkeeping, and finality). */
export const ROWS_COLUMN = 'kelt_rows';
export const FINAL_COLUMN = 'final';
export const LATE_ROWS_COLUMN = 'late_rows';
/** The hidden count of non-NULL values behind sum measure `m` (a sum of no values is NULL, as SQL's SUM). */
export const nonNullColumn = (m: number): string => `kelt_n${m}`;

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(text: string): number {
  const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(text)!;
  return Number(amount) * unitMs[unit as keyof typeof unitMs];
}

/** Column types a measure reads: sums need numbers; min and max also take dates and timestamps. */
const summable = new Set(['int', 'long', 'double']);
const ordered = new Set([...summable, 'date', 'timestamp', 'timestamp(3)', 'timestamp(6)']);
export const timestampTypes = new Set(['timestamp', 'timestamp(3)', 'timestamp(6)']);

/** The spec's aggregates, checked against the model tables they read; problems go to `issues`. */
export function aggregatesFrom(specs: z.output<typeof aggregateSpecSchema>[], tables: readonly ModelTable[], issues: string[]): Aggregate[] {
  const tableNames = new Set(tables.map((table) => table.name));
  return specs.map((spec, a) => {
    const at = `transform.aggregates.${a}`;
    if (tableNames.has(spec.name)) issues.push(`${at}.name: ${spec.name} is also a model table`);
    const source = tables.find((table) => table.name === spec.from);
    if (source === undefined) issues.push(`${at}.from: ${spec.from} is not one of transform.tables`);
    const typeOf = (column: string, field: string): string | undefined => {
      if (source === undefined) return undefined;
      const type = source.columns[column];
      if (type === undefined) issues.push(`${field}: ${column} is not a column of ${spec.from}`);
      return type;
    };
    spec.groupBy.forEach((column, i) => {
      if (typeOf(column, `${at}.groupBy.${i}`) === 'json')
        issues.push(`${at}.groupBy.${i}: ${column} is json, which MySQL and MariaDB do not compare alike`);
    });
    if (spec.window !== undefined) {
      const type = typeOf(spec.window.column, `${at}.window.column`);
      if (type !== undefined && !timestampTypes.has(type)) issues.push(`${at}.window.column: ${spec.window.column} is ${type}, not a timestamp`);
      const [size, slide] = [durationMs(spec.window.size), durationMs(spec.window.slide ?? spec.window.size)];
      if (slide > size)
        issues.push(
          `${at}.window.slide: ${spec.window.slide} is longer than the window (${spec.window.size}): rows between windows would count nowhere`,
        );
      else if (Math.ceil(size / slide) > MAX_WINDOWS_PER_ROW) {
        issues.push(`${at}.window.slide: ${spec.window.slide} puts each row in ${Math.ceil(size / slide)} windows; at most ${MAX_WINDOWS_PER_ROW}`);
      }
    }
    if (spec.lateness !== undefined && spec.window === undefined) issues.push(`${at}.lateness: only a windowed aggregate has windows to make final`);
    const own = [
      ...(spec.window === undefined ? [] : [spec.window.as]),
      ...spec.groupBy,
      'kelt_group',
      ROWS_COLUMN,
      ...(spec.lateness === undefined ? [] : [FINAL_COLUMN, LATE_ROWS_COLUMN]),
    ];
    const measures = Object.entries(spec.measures).map(([name, text]): Measure => {
      const field = `${at}.measures.${name}`;
      if (own.includes(name) || /^kelt_/.test(name)) issues.push(`${field}: ${name} is already a group, window or kelt column`);
      const parsed = /^(count|sum|min|max|count_distinct)(?:\(([A-Za-z_][A-Za-z0-9_]*)\))?$/.exec(text.trim());
      if (parsed === null || (parsed[1] === 'count') !== (parsed[2] === undefined)) {
        issues.push(`${field}: ${text} must be count, sum(column), min(column), max(column) or count_distinct(column)`);
        return { name, kind: 'count', of: undefined };
      }
      const kind = parsed[1] as MeasureKind;
      const of = parsed[2];
      if (of !== undefined) {
        const type = typeOf(of, field);
        if (type !== undefined && kind === 'sum' && !summable.has(type))
          issues.push(`${field}: sum needs an int, long or double column; ${of} is ${type}`);
        if (type !== undefined && (kind === 'min' || kind === 'max') && !ordered.has(type)) {
          issues.push(`${field}: ${kind} needs a number, date or timestamp column; ${of} is ${type}`);
        }
        if (type === 'json' && kind === 'count_distinct') issues.push(`${field}: ${of} is json, which MySQL and MariaDB do not compare alike`);
      }
      return { name, kind, of };
    });
    return {
      name: spec.name,
      membersTable: `${spec.name}_members`,
      from: spec.from,
      groupBy: spec.groupBy,
      window:
        spec.window === undefined
          ? undefined
          : {
              column: spec.window.column,
              sizeMs: durationMs(spec.window.size),
              slideMs: durationMs(spec.window.slide ?? spec.window.size),
              as: spec.window.as,
            },
      latenessMs: spec.lateness === undefined ? undefined : durationMs(spec.lateness),
      measures,
    };
  });
}

/**
 * What defines an aggregate's rows: the table a migrate made for another
 * definition holds other numbers, so a change is refused until a replay
 * rebuilds it (src/mysql/aggregate-table.ts keeps it in the table's comment).
 */
export function definitionOf(aggregate: Aggregate): string {
  const { name, from, groupBy, window, latenessMs, measures } = aggregate;
  return JSON.stringify({
    name,
    from,
    groupBy,
    window: window ?? null,
    latenessMs: latenessMs ?? null,
    measures: measures.map((m) => [m.name, m.kind, m.of ?? null]),
  });
}

/** What one batch does to one measure of one group. */
export type MeasureDelta =
  /** count is the group's rows (GroupDelta.rows). */
  | { kind: 'count' }
  /** The sum's change (bigint for int and long columns), and the change in how many of its values are not NULL. */
  | { kind: 'sum'; sum: bigint | number; nonNull: number }
  /** The extreme of the values added, and of the values taken away (null: none): taking away the current extreme asks the model table for the next. */
  | { kind: 'min' | 'max'; added: unknown; retracted: unknown }
  /** Each member's change in rows (16-byte hashes, in hash order; none zero). */
  | { kind: 'count_distinct'; members: Array<{ hash: Buffer; rows: number }> };

/** One group's change in one batch: the difference between its rows' old and new contributions. */
export interface GroupDelta {
  windowStart: string | undefined;
  windowStartMs: number | undefined;
  groupValues: unknown[];
  /** 16 bytes of SHA-256 over the window and the group's values: the aggregate row's key. */
  groupHash: Buffer;
  /** The change in the group's rows (negative when rows left it). */
  rows: number;
  /** Rows added to or taken from the group: what a final window counts as late. */
  changes: number;
  measures: MeasureDelta[];
}

/** How an aggregate's measures read their columns: which sums are exact (int, long), and how min/max order values. */
export interface MeasureReading {
  exactSums: readonly boolean[];
  compares: ReadonlyArray<((a: unknown, b: unknown) => number) | undefined>;
}

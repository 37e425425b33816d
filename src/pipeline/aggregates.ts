import { z } from 'zod';
import type { ModelTable } from './model-table.ts';

/**
 * Aggregate tables: a model table's rows (as the transform writes them)
 * counted, summed, min'd, max'd and distinct-counted per group and per
 * event-time window, by increments applied in the transform's MySQL
 * transaction, so each record counts exactly once whatever crashes.
 */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a SQL identifier: letters, digits and _, at most 64');

export const aggregateSpecSchema = z.strictObject({
  name: identifier
    .refine((name) => name.length <= 56, 'must be at most 56 characters (its members table adds _members)')
    .describe('The aggregate table’s name.'),
  from: identifier.describe('The model table whose rows are aggregated (one of transform.tables).'),
  groupBy: z.array(identifier).default([]).describe('Columns of the source table that make a group (any type; NULL is a group of its own).'),
  window: z
    .strictObject({
      column: identifier.describe('A timestamp column of the source table: the event time.'),
      size: z
        .string()
        .regex(/^[1-9]\d*(ms|s|m|h|d)$/, 'must be a duration: 500ms, 30s, 15m, 1h, 1d')
        .describe('The window’s length: 500ms, 30s, 15m, 1h, 1d.'),
      as: identifier.default('window_start').describe('The column holding the window’s start.'),
    })
    .optional()
    .describe('Tumbling event-time windows, aligned to the epoch (UTC).'),
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
  window: { column: string; sizeMs: number; as: string } | undefined;
  measures: Measure[];
}

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
    spec.groupBy.forEach((column, i) => typeOf(column, `${at}.groupBy.${i}`));
    if (spec.window !== undefined) {
      const type = typeOf(spec.window.column, `${at}.window.column`);
      if (type !== undefined && !timestampTypes.has(type)) issues.push(`${at}.window.column: ${spec.window.column} is ${type}, not a timestamp`);
    }
    const own = [...(spec.window === undefined ? [] : [spec.window.as]), ...spec.groupBy, 'kelt_group'];
    const measures = Object.entries(spec.measures).map(([name, text]): Measure => {
      const field = `${at}.measures.${name}`;
      if (own.includes(name)) issues.push(`${field}: ${name} is already a group or window column`);
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
      }
      return { name, kind, of };
    });
    return {
      name: spec.name,
      membersTable: `${spec.name}_members`,
      from: spec.from,
      groupBy: spec.groupBy,
      window: spec.window === undefined ? undefined : { column: spec.window.column, sizeMs: durationMs(spec.window.size), as: spec.window.as },
      measures,
    };
  });
}

/** One group's increments in one batch. */
export interface GroupIncrement {
  windowStart: string | undefined;
  groupValues: unknown[];
  /** 16 bytes of SHA-256 over the window and the group's values: the aggregate row's key. */
  groupHash: Buffer;
  /** Per measure: count → rows; sum → the sum (bigint for int/long columns, number for double), null when every value was null; min/max → the extreme or null; count_distinct → undefined (see members). */
  measures: unknown[];
  /** Per count_distinct measure index: the distinct members' hashes (16 bytes each), in hash order. */
  members: Map<number, Buffer[]>;
}

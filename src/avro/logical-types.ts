import avro from 'avsc';
import './avsc-collection-fixes.ts';
import './avsc-check-fixes.ts';
import './avsc-text-fixes.ts';
import { decimalText, fromTwosComplement, toTwosComplement, unscaledOf } from '../values/decimal.ts';
import { dateText, daysOf, epochOf, timeOfDay, timeText, type TimeUnit } from '../values/temporal.ts';
import { exactLong } from './exact-long.ts';

/**
 * Avro's logical types as kelt hands them to transforms (docs/pipelines.md's type
 * table): decimals as exact text, dates as 'YYYY-MM-DD', times of day as
 * 'HH:MM:SS.fff[fff]', timestamps as integers in their unit since the epoch,
 * uuids as text. Each also accepts the natural JSON of its type on the way
 * in (ISO-8601 text, a decimal as text or number), which is how JSON sources
 * and `kelt produce` give them. Without these, avsc hands out a decimal's raw
 * two's-complement bytes.
 */
interface LogicalSchema {
  type: unknown;
  logicalType: string;
  precision?: number;
  scale?: number;
  size?: number;
}

/** What a logical type expects, for the message that rejects a value. */
export interface Described {
  readonly expected: string;
}

/** A type's Avro name: kelt's exact long (an avsc "abstract:long") is a long. */
export function kindOf(type: avro.Type): string {
  return type.typeName === 'abstract:long' ? 'long' : type.typeName;
}

export class DecimalType extends avro.types.LogicalType implements Described {
  readonly precision: number;
  readonly scale: number;
  private readonly size: number | undefined;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const { precision, scale = 0 } = schema as unknown as LogicalSchema;
    const underlying = kindOf(this.underlyingType);
    // An invalid decimal is, as the Avro spec says, its underlying type: avsc falls back when this throws.
    if (!Number.isInteger(precision) || precision! < 1 || !Number.isInteger(scale) || scale < 0 || scale > precision!) {
      throw new Error(`decimal(${precision},${scale}) is not a valid decimal`);
    }
    if (underlying !== 'bytes' && underlying !== 'fixed') throw new Error(`a decimal cannot be a ${underlying}`);
    this.precision = precision!;
    this.scale = scale;
    this.size = underlying === 'fixed' ? (this.underlyingType as unknown as { size: number }).size : undefined;
  }

  get expected(): string {
    return `a decimal(${this.precision},${this.scale}) as text or a number`;
  }

  protected override _fromValue(bytes: Buffer): string {
    return decimalText(fromTwosComplement(bytes), this.scale);
  }

  protected override _toValue(value: unknown): Buffer {
    return toTwosComplement(unscaledOf(value, this.precision, this.scale), this.size);
  }

  // Kept in the schema text that workers rebuild their types from.
  protected override _export(schema: avro.Schema): void {
    Object.assign(schema, { precision: this.precision, scale: this.scale });
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof DecimalType) return writer.scale === this.scale ? (value) => value : undefined;
    return kindOf(writer) === kindOf(this.underlyingType) ? (value) => this._fromValue(value as Buffer) : undefined;
  }
}

export class TimestampType extends avro.types.LogicalType implements Described {
  readonly unit: TimeUnit;
  readonly local: boolean;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const name = (schema as unknown as LogicalSchema).logicalType;
    this.unit = name.endsWith('micros') ? 'micros' : 'millis';
    this.local = name.startsWith('local-');
    if (kindOf(this.underlyingType) !== 'long') throw new Error(`${name} must be a long`);
  }

  get expected(): string {
    return `a ${this.local ? 'local ' : ''}timestamp: ISO-8601 text, or ${this.unit} since the epoch`;
  }

  protected override _fromValue(units: number | bigint): number | bigint {
    return units;
  }

  protected override _toValue(value: unknown): number | bigint | undefined {
    if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
    if (typeof value === 'bigint') return value;
    if (typeof value === 'string') return epochOf(value, this.unit, this.local);
    if (value instanceof Date && this.unit === 'millis') return value.getTime();
    if (value instanceof Date) return value.getTime() * 1000;
    return undefined;
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof TimestampType) return writer.unit === this.unit ? (value) => value : undefined;
    return kindOf(writer) === 'long' || kindOf(writer) === 'int' ? (value) => value : undefined;
  }
}

export class DateType extends avro.types.LogicalType implements Described {
  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    if (kindOf(this.underlyingType) !== 'int') throw new Error('date must be an int');
  }

  get expected(): string {
    return 'a date: YYYY-MM-DD, or days since the epoch';
  }

  protected override _fromValue(days: number): string {
    return dateText(days);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'string') return daysOf(value);
    if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
    return undefined;
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof DateType) return (value) => value;
    return kindOf(writer) === 'int' ? (value) => this._fromValue(value as number) : undefined;
  }
}

export class TimeType extends avro.types.LogicalType implements Described {
  readonly unit: TimeUnit;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    this.unit = (schema as unknown as LogicalSchema).logicalType === 'time-micros' ? 'micros' : 'millis';
    const expected = this.unit === 'micros' ? 'long' : 'int';
    if (kindOf(this.underlyingType) !== expected) throw new Error(`time-${this.unit} must be a ${expected}`);
  }

  get expected(): string {
    return `a time of day: HH:MM:SS[.fraction], or ${this.unit} since midnight`;
  }

  protected override _fromValue(units: number): string {
    return timeText(units, this.unit);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'string') return timeOfDay(value, this.unit);
    if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
    return undefined;
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof TimeType) return writer.unit === this.unit ? (value) => value : undefined;
    return kindOf(writer) === kindOf(this.underlyingType) ? (value) => this._fromValue(value as number) : undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UuidType extends avro.types.LogicalType implements Described {
  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const underlying = this.underlyingType as unknown as { typeName: string; size?: number };
    if (underlying.typeName !== 'string' && !(underlying.typeName === 'fixed' && underlying.size === 16)) {
      throw new Error('uuid must be a string or a fixed of 16 bytes');
    }
  }

  get expected(): string {
    return 'a uuid as text (8-4-4-4-12 hex digits)';
  }

  protected override _fromValue(value: string | Buffer): string {
    if (typeof value === 'string') return value;
    const hex = value.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  protected override _toValue(value: unknown): string | Buffer | undefined {
    if (typeof value !== 'string' || !UUID.test(value)) return undefined;
    return kindOf(this.underlyingType) === 'string' ? value : Buffer.from(value.replaceAll('-', ''), 'hex');
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof UuidType) return (value) => value;
    return kindOf(writer) === kindOf(this.underlyingType) ? (value) => this._fromValue(value as string) : undefined;
  }
}

export const logicalTypes = {
  decimal: DecimalType,
  'timestamp-millis': TimestampType,
  'timestamp-micros': TimestampType,
  'local-timestamp-millis': TimestampType,
  'local-timestamp-micros': TimestampType,
  date: DateType,
  'time-millis': TimeType,
  'time-micros': TimeType,
  uuid: UuidType,
};

/**
 * Every `long` of a schema is the exact one, a logical type's long underneath
 * too. avsc asks the hook twice for a logical type's schema: first for the
 * logical type (answered: not hooked), then, from the logical type's
 * constructor, for its underlying long (answered: the exact long).
 */
const awaitingUnderlying = new WeakSet<object>();
function typeHook(schema: unknown): avro.Type | undefined {
  if (schema === 'long') return exactLong;
  if (typeof schema !== 'object' || schema === null || (schema as { type?: unknown }).type !== 'long') return undefined;
  const logical = (schema as { logicalType?: unknown }).logicalType;
  if (typeof logical !== 'string' || !(logical in logicalTypes)) return exactLong;
  if (awaitingUnderlying.delete(schema)) return exactLong;
  awaitingUnderlying.add(schema);
  return undefined;
}

/** kelt's avsc options: its logical types and exact longs (the registry client hands them to its library too). */
export const avroOptions = { logicalTypes, typeHook };

/** An avsc type for `schema` with kelt's logical types: how every part of kelt reads and writes Avro. */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { ...avroOptions });
}

/** The schema text of `type`, logical types included, for a worker to rebuild it with `avroType`. */
export function schemaTextOf(type: avro.Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}

/** What a value of `type` must look like, for an error that names a field. */
export function expectedOf(type: avro.Type): string {
  if ('expected' in type && typeof (type as Described).expected === 'string') return (type as Described).expected;
  if (type.typeName.startsWith('union')) return 'one of the union’s types';
  const kind = kindOf(type);
  if (kind === 'string') return 'a string of well-formed text (no unpaired surrogate)';
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

/** Where `value` does not fit `type`: each field's path, its value and what the type expects. */
export function mismatches(type: avro.Type, value: unknown): string[] {
  return fieldMismatches(type, value).map(({ message }) => message);
}

/** `mismatches`, each with the path of its field (`(record)` for the value as a whole). */
export function fieldMismatches(type: avro.Type, value: unknown): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  type.isValid(value, {
    errorHook: (path: string[], any: unknown, at: avro.Type) => {
      const field = path.join('.') || '(record)';
      problems.push({ field, message: `${field}: ${shown(any)} is not ${expectedOf(at)}` });
    },
  });
  return problems;
}

function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'bigint') return value.toString();
  return (JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner)) ?? String(value)).slice(0, 60);
}

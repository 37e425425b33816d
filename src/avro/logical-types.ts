import avro from 'avsc';
import { decimalText, fromTwosComplement, toTwosComplement, unscaledOf } from '../values/decimal.ts';
import { dateText, daysOf, epochOf, timeOfDay, timeText, type TimeUnit } from '../values/temporal.ts';

/**
 * Avro's logical types as kelt hands them to transforms (the README's type
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

export class DecimalType extends avro.types.LogicalType implements Described {
  readonly precision: number;
  readonly scale: number;
  private readonly size: number | undefined;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const { precision, scale = 0 } = schema as unknown as LogicalSchema;
    const underlying = this.underlyingType.typeName;
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
    return writer.typeName === this.underlyingType.typeName ? (value) => this._fromValue(value as Buffer) : undefined;
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
    if (this.underlyingType.typeName !== 'long') throw new Error(`${name} must be a long`);
  }

  get expected(): string {
    return `a ${this.local ? 'local ' : ''}timestamp: ISO-8601 text, or ${this.unit} since the epoch`;
  }

  protected override _fromValue(units: number): number {
    return units;
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
    if (typeof value === 'string') return epochOf(value, this.unit, this.local);
    if (value instanceof Date && this.unit === 'millis') return value.getTime();
    if (value instanceof Date) return value.getTime() * 1000;
    return undefined;
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof TimestampType) return writer.unit === this.unit ? (value) => value : undefined;
    return writer.typeName === 'long' || writer.typeName === 'int' ? (value) => value : undefined;
  }
}

export class DateType extends avro.types.LogicalType implements Described {
  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    if (this.underlyingType.typeName !== 'int') throw new Error('date must be an int');
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
    return writer.typeName === 'int' ? (value) => this._fromValue(value as number) : undefined;
  }
}

export class TimeType extends avro.types.LogicalType implements Described {
  readonly unit: TimeUnit;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    this.unit = (schema as unknown as LogicalSchema).logicalType === 'time-micros' ? 'micros' : 'millis';
    const expected = this.unit === 'micros' ? 'long' : 'int';
    if (this.underlyingType.typeName !== expected) throw new Error(`time-${this.unit} must be a ${expected}`);
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
    return writer.typeName === this.underlyingType.typeName ? (value) => this._fromValue(value as number) : undefined;
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
    return this.underlyingType.typeName === 'string' ? value : Buffer.from(value.replaceAll('-', ''), 'hex');
  }

  protected override _resolve(writer: avro.Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof UuidType) return (value) => value;
    return writer.typeName === this.underlyingType.typeName ? (value) => this._fromValue(value as string) : undefined;
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

/** An avsc type for `schema` with kelt's logical types: how every part of kelt reads and writes Avro. */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { logicalTypes });
}

/** The schema text of `type`, logical types included, for a worker to rebuild it with `avroType`. */
export function schemaTextOf(type: avro.Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}

/** What a value of `type` must look like, for an error that names a field. */
export function expectedOf(type: avro.Type): string {
  if ('expected' in type && typeof (type as Described).expected === 'string') return (type as Described).expected;
  return type.typeName.startsWith('union') ? 'one of the union’s types' : `a ${type.typeName}`;
}

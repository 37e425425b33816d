import { PermanentError } from '../errors.ts';
import { decimalText, describe, unscaledOf } from '../values/decimal.ts';
import { dateText, daysOf, epochOf, timeOfDay, timestampText, timeText, type TimeUnit } from '../values/temporal.ts';

/**
 * A value as a mysql2 parameter for one column type. Staging values arrive
 * in the form kelt's Avro types give them; a transform's rows may use any
 * form docs/pipelines.md lists for the column type. Dates, times, timestamps and
 * decimals go to MySQL as text, so neither a Date's milliseconds nor the
 * connection's time zone touch them. A value the column cannot hold exactly
 * throws PermanentError (its record is dead-lettered, never rounded).
 */
export type ToSql = (value: unknown) => unknown;

const nullable =
  (convert: (value: unknown) => unknown): ToSql =>
  (value) =>
    value === null || value === undefined ? null : convert(value);

const refuse = (message: string): never => {
  throw new PermanentError(message);
};

const wrapped =
  <T>(convert: (value: T) => unknown) =>
  (value: T): unknown => {
    try {
      return convert(value);
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      throw new PermanentError((error as Error).message, { cause: error });
    }
  };

/**
 * An integer column's value: a number that is an integer, a bigint, or the
 * digits of one, within the column's range. Anything else would reach MySQL
 * as something it rounds, clamps or reads as SQL (`NaN`, `Infinity`).
 */
const integerValue = (column: 'INT' | 'BIGINT', bits: bigint): ToSql => {
  const min = -(2n ** (bits - 1n));
  const max = 2n ** (bits - 1n) - 1n;
  return nullable((value) => {
    const exact =
      typeof value === 'bigint'
        ? value
        : typeof value === 'number' && Number.isInteger(value)
          ? BigInt(value)
          : typeof value === 'string' && /^-?\d{1,20}$/.test(value)
            ? BigInt(value)
            : refuse(`${describe(value)} is not an integer (${column})`);
    if (exact < min || exact > max) refuse(`${exact} is outside the range of ${column}`);
    return typeof value === 'number' ? value : exact.toString();
  });
};

export const intValue = integerValue('INT', 32n);
export const longValue = integerValue('BIGINT', 64n);

/**
 * A floating-point column's value: a finite number within the column's range
 * (a bigint only where a double holds it exactly). NaN and the infinities
 * have no MySQL value: sent as they are, they read as unknown columns.
 */
const floatingValue = (column: 'FLOAT' | 'DOUBLE', largest: number): ToSql =>
  nullable((value) => {
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'bigint' && BigInt(Number(value)) === value
          ? Number(value)
          : refuse(`${describe(value)} is not a number (${column})`);
    if (!Number.isFinite(number)) refuse(`${number} is not a finite number: ${column} cannot hold it`);
    if (Math.abs(number) > largest) refuse(`${number} is outside the range of ${column}`);
    return number;
  });

export const floatValue = floatingValue('FLOAT', 3.4028234663852886e38);
export const doubleValue = floatingValue('DOUBLE', Number.MAX_VALUE);

export const booleanValue: ToSql = nullable((value) =>
  typeof value === 'boolean' ? value : value === 0 || value === 1 ? value === 1 : refuse(`${describe(value)} is not a boolean`),
);

/** Text of at most `length` characters (MySQL counts code points, as here), or unbounded. */
export const stringValue = (length: number | undefined): ToSql =>
  nullable((value) => {
    const text = typeof value === 'string' ? value : refuse(`${describe(value)} is not text`);
    // UTF-8 has no unpaired surrogate: sent on, it would land as U+FFFD.
    if (!text.isWellFormed()) refuse(`${describe(text)} holds an unpaired surrogate, which is not text MySQL can store`);
    // UTF-16 units bound the code points from above: count them only when it could matter.
    if (length !== undefined && text.length > length) {
      const characters = [...text].length;
      if (characters > length) refuse(`${characters} characters do not fit VARCHAR(${length}) (declare the column longer, or text)`);
    }
    return text;
  });

export const decimalValue = (precision: number, scale: number): ToSql =>
  nullable(wrapped((value) => decimalText(unscaledOf(value, precision, scale), scale)));

/** Numbers are in the column's unit since the epoch; text is ISO-8601 (UTC unless it names a zone); a Date is milliseconds. */
export const timestampValue = (unit: TimeUnit): ToSql =>
  nullable(
    wrapped((value) => {
      if (typeof value === 'number' || typeof value === 'bigint') return timestampText(value, unit);
      if (typeof value === 'string') return timestampText(epochOf(value, unit), unit);
      if (value instanceof Date) return timestampText(unit === 'millis' ? value.getTime() : value.getTime() * 1000, unit);
      return refuse(`${describe(value)} is not a timestamp`);
    }),
  );

/** 'YYYY-MM-DD', days since the epoch, or a Date (its UTC day). */
export const dateValue: ToSql = nullable(
  wrapped((value) => {
    if (typeof value === 'string') return dateText(daysOf(value));
    if (typeof value === 'number' && Number.isInteger(value)) return dateText(value);
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    return refuse(`${describe(value)} is not a date`);
  }),
);

/** 'HH:MM:SS[.fraction]', or the column's unit since midnight. */
export const timeValue = (unit: TimeUnit): ToSql =>
  nullable(
    wrapped((value) => {
      if (typeof value === 'string') return timeText(timeOfDay(value, unit), unit);
      if (typeof value === 'number') return timeText(value, unit);
      return refuse(`${describe(value)} is not a time of day`);
    }),
  );

export const bytesValue: ToSql = nullable((value) =>
  value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : refuse(`${describe(value)} is not bytes`),
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const uuidValue: ToSql = nullable((value) =>
  typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : refuse(`${describe(value)} is not a uuid`),
);

/**
 * JSON text. Bytes inside are base64 text, and a bigint its digits (JSON has
 * neither); a cycle has no JSON at all, however often it is tried.
 */
// Node has JSON.rawJSON (V8 11.4+); TypeScript's lib does not declare it yet.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

export const jsonValue: ToSql = nullable((value) => {
  let text: string;
  try {
    text = JSON.stringify(value, function replace(this: Record<string, unknown>, key: string, converted: unknown) {
      const raw = this[key];
      // JSON.stringify writes null for them: a value changed, silently.
      if (typeof raw === 'number' && !Number.isFinite(raw)) throw new RangeError(`${raw} is not a finite number${key === '' ? '' : ` (at ${key})`}`);
      // Left out silently otherwise (and an array's become null).
      if (typeof raw === 'function' || typeof raw === 'symbol') throw new TypeError(`a ${typeof raw} has no JSON${key === '' ? '' : ` (at ${key})`}`);
      if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
      if (typeof raw === 'bigint') return rawJson(raw.toString());
      return converted;
    });
  } catch (error) {
    throw new PermanentError(`not representable as JSON: ${(error as Error).message}`, { cause: error });
  }
  return text;
});

import { JsonNumberText } from '../values/exact-json.ts';
import { PermanentError } from '../errors.ts';
import { decimalText, fromTwosComplement } from '../values/decimal.ts';

/** What a Debezium change event does to its row; `t` (truncate) names no row. */
export type ChangeOp = 'c' | 'u' | 'r' | 'd' | 't';

/**
 * A Debezium change event, read from its envelope: the row as it is after
 * the change (`c` insert, `u` update, `r` snapshot read), or as it was before
 * a delete (`d`), with each value in the form kelt's schema types read
 * (decimals as exact text, times and timestamps as ISO-8601 text).
 */
export type ChangeEvent = { op: 'c' | 'u' | 'r' | 'd'; row: Record<string, unknown> } | { op: 't' };

/** A Kafka Connect field schema, as the JSON converter embeds it or as read from an Avro schema's connect.* attributes. */
export interface ConnectField {
  /** The semantic type's name: org.apache.kafka.connect.data.Decimal, io.debezium.time.MicroTimestamp… */
  name?: string;
  parameters?: Record<string, string>;
}

/** The fields of the row's struct, by name: how each value is encoded. */
export type RowEncoding = ReadonlyMap<string, ConnectField>;

const ops = new Set<string>(['c', 'u', 'r', 'd', 't']);

/**
 * A Debezium change event from its JSON (the JSON converter's, with or
 * without embedded schemas). With schemas, every value is converted by its
 * semantic type; without, values are taken as they are, so the connector
 * must write decimals as text (`decimal.handling.mode=string`) and times as
 * numbers in the pipeline's units or ISO text (`time.precision.mode=connect`
 * for millis) — anything else is refused by the schema check, never guessed.
 */
export function changeEventOfJson(value: unknown): ChangeEvent {
  if (!isObject(value)) throw notAChangeEvent('the value is not a JSON object');
  if (isObject(value.payload) && 'schema' in value) {
    return changeEventOf(value.payload, rowEncodingOfJsonSchema(value.schema));
  }
  return changeEventOf(value, new Map());
}

/** A change event from its decoded envelope (JSON payload or Avro record), each value converted by `encoding`. */
export function changeEventOf(envelope: unknown, encoding: RowEncoding): ChangeEvent {
  if (!isObject(envelope) || typeof envelope.op !== 'string' || !ops.has(envelope.op)) {
    // The schema change topic's records (ddl, databaseName…) and anything else without an op land here.
    throw notAChangeEvent('it has no op of c, u, r, d or t (a schema change topic is not a source)');
  }
  const op = envelope.op as ChangeOp;
  if (op === 't') return { op };
  const image = op === 'd' ? envelope.before : envelope.after;
  if (!isObject(image)) {
    throw new PermanentError(
      op === 'd'
        ? 'a delete without its before image: the table’s binlog_row_image (or REPLICA IDENTITY) must be FULL'
        : `a change (op ${op}) without its after image`,
      { reason: 'schema_violation' },
    );
  }
  return { op, row: Object.fromEntries(Object.entries(image).map(([field, raw]) => [field, converted(field, raw, encoding.get(field))])) };
}

/** The row struct's fields of a JSON converter schema (the envelope's `after`, else `before`). */
export function rowEncodingOfJsonSchema(schema: unknown): RowEncoding {
  const fields = isObject(schema) && Array.isArray(schema.fields) ? (schema.fields as unknown[]) : [];
  const row = fields.find((field) => isObject(field) && (field.field === 'after' || field.field === 'before'));
  const rowFields = isObject(row) && Array.isArray(row.fields) ? (row.fields as unknown[]) : [];
  return new Map(
    rowFields.filter(isObject).map((field) => [
      String(field.field),
      {
        ...(typeof field.name === 'string' ? { name: field.name } : {}),
        ...(isObject(field.parameters) ? { parameters: field.parameters as Record<string, string> } : {}),
      },
    ]),
  );
}

/** The row record's fields of an Avro envelope schema (Confluent's AvroConverter: connect.name and connect.parameters on each type). */
export function rowEncodingOfAvroSchema(schema: unknown): RowEncoding {
  const fields = isObject(schema) && Array.isArray(schema.fields) ? (schema.fields as unknown[]) : [];
  // The first of before/after declares the row record; the other names it.
  const record = fields
    .filter((field) => isObject(field) && (field.name === 'after' || field.name === 'before'))
    .map((field) => unionBranch((field as Record<string, unknown>).type))
    .find(isObject);
  const rowFields = isObject(record) && Array.isArray(record.fields) ? (record.fields as unknown[]) : [];
  return new Map(
    rowFields.filter(isObject).map((field) => {
      const type = unionBranch(field.type);
      const attributes = isObject(type) ? type : {};
      // A decimal logical type is decoded to exact text by kelt's Avro types already.
      const name = attributes.logicalType === 'decimal' ? undefined : attributes['connect.name'];
      return [
        String(field.name),
        {
          ...(typeof name === 'string' ? { name } : {}),
          ...(isObject(attributes['connect.parameters']) ? { parameters: attributes['connect.parameters'] as Record<string, string> } : {}),
        },
      ];
    }),
  );
}

/** A nullable field's type is ["null", T]: T. */
function unionBranch(type: unknown): unknown {
  return Array.isArray(type) ? type.find((branch) => branch !== 'null') : type;
}

const MILLIS = 1_000_000n;
const MICROS = 1_000n;
const NANOS = 1n;

/** A value in the form kelt's types read, by its Connect/Debezium semantic type; unknown types pass as they are. */
function converted(field: string, value: unknown, encoding: ConnectField | undefined): unknown {
  if (value === null || value === undefined || encoding?.name === undefined) return value;
  // An Avro logical type (time-millis…) may have read the value as text already.
  if (typeof value === 'string' && !encoding.name.endsWith('Decimal')) return value;
  try {
    switch (encoding.name) {
      case 'org.apache.kafka.connect.data.Decimal':
        return decimalOf(value, Number(encoding.parameters?.scale ?? 0));
      case 'io.debezium.data.VariableScaleDecimal':
        if (!isObject(value)) return value;
        return decimalOf(value.value, Number(value.scale));
      case 'org.apache.kafka.connect.data.Timestamp':
      case 'io.debezium.time.Timestamp':
        return timestampText(integer(value), MILLIS);
      case 'io.debezium.time.MicroTimestamp':
        return timestampText(integer(value), MICROS);
      case 'io.debezium.time.NanoTimestamp':
        return timestampText(integer(value), NANOS);
      case 'org.apache.kafka.connect.data.Time':
      case 'io.debezium.time.Time':
        return timeText(integer(value), MILLIS);
      case 'io.debezium.time.MicroTime':
        return timeText(integer(value), MICROS);
      case 'io.debezium.time.NanoTime':
        return timeText(integer(value), NANOS);
      default:
        // Dates are days since the epoch either way; ZonedTimestamp is ISO text already.
        return value;
    }
  } catch (error) {
    throw new PermanentError(`${field}: ${(error as Error).message}`, { reason: 'schema_violation', cause: error });
  }
}

/**
 * A Connect decimal: base64 text of the unscaled two's complement (the JSON
 * converter: with decimal.handling.mode=string the field is a plain string
 * type and never gets here), or its bytes (Avro without the decimal logical type).
 */
function decimalOf(value: unknown, scale: number): string {
  // Bounded by what a DECIMAL column holds before anything is allocated: a 100-byte event could name a scale of 5e8.
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_DECIMAL_SCALE)
    throw new Error(`scale ${scale} is outside a DECIMAL's 0–${MAX_DECIMAL_SCALE}`);
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) bytes = value;
  else if (typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length <= 4 * Math.ceil(MAX_DECIMAL_BYTES / 3)) {
    bytes = Buffer.from(value, 'base64');
  } else throw new Error(`${JSON.stringify(value).slice(0, 60)} is not a Connect decimal (base64 of at most ${MAX_DECIMAL_BYTES} bytes)`);
  if (bytes.length > MAX_DECIMAL_BYTES) throw new Error(`a decimal of ${bytes.length} bytes has more than ${MAX_DECIMAL_DIGITS} digits`);
  const unscaled = fromTwosComplement(bytes);
  if ((unscaled < 0n ? -unscaled : unscaled).toString().length > MAX_DECIMAL_DIGITS)
    throw new Error(`the decimal has more than ${MAX_DECIMAL_DIGITS} digits`);
  return decimalText(unscaled, scale);
}

/** MySQL's DECIMAL(65,30), and the two's complement bytes 65 digits need. */
const MAX_DECIMAL_DIGITS = 65;
const MAX_DECIMAL_SCALE = 30;
const MAX_DECIMAL_BYTES = 28;

function integer(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  // A number past 2^53 (a BIGINT, micros past the year 2255), read from its digits.
  if (value instanceof JsonNumberText && /^-?\d+$/.test(value.text)) return BigInt(value.text);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new Error(`${JSON.stringify(value)} is not an integer`);
}

/** Nanoseconds per unit × units since the epoch → ISO-8601 UTC text, the fraction exact (trailing zeros dropped). */
function timestampText(units: bigint, nanosPerUnit: bigint): string {
  const nanos = units * nanosPerUnit;
  const floorMs = nanos >= 0n ? nanos / 1_000_000n : -((-nanos + 999_999n) / 1_000_000n);
  const date = new Date(Number(floorMs));
  if (Number.isNaN(date.getTime())) throw new Error(`${units} is out of a timestamp's range`);
  const subMs = nanos - floorMs * 1_000_000n;
  const fraction = `${String(date.getUTCMilliseconds()).padStart(3, '0')}${subMs.toString().padStart(6, '0')}`.replace(/0+$/, '');
  return `${date.toISOString().slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

function timeText(units: bigint, nanosPerUnit: bigint): string {
  const nanos = units * nanosPerUnit;
  if (nanos < 0n || nanos >= 86_400n * 1_000_000_000n) throw new Error(`${units} is not a time of day`);
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const hh = String(seconds / 3600n).padStart(2, '0');
  const mm = String((seconds % 3600n) / 60n).padStart(2, '0');
  const ss = String(seconds % 60n).padStart(2, '0');
  return `${hh}:${mm}:${ss}${fraction === '' ? '' : `.${fraction}`}`;
}

function notAChangeEvent(why: string): PermanentError {
  return new PermanentError(`not a Debezium change event: ${why}`, { reason: 'schema_violation' });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

import type avro from 'avsc';
import { avroType, kindOf, DateType, DecimalType, TimestampType, TimeType, UuidType } from '../avro/logical-types.ts';
import { PermanentError } from '../errors.ts';
import {
  booleanValue,
  bytesValue,
  dateValue,
  decimalValue,
  doubleValue,
  floatValue,
  intValue,
  jsonValue,
  longValue,
  stringValue,
  timestampValue,
  timeValue,
  uuidValue,
  type ToSql,
} from './column-values.ts';

/**
 * How kelt maps schemas to MySQL columns (the type table of docs/pipelines.md). The SQL
 * runs on MySQL 8.x and MariaDB 10.11 alike (JSON is LONGTEXT with a check
 * on MariaDB). Every value lands exactly: decimals as DECIMAL(p,s),
 * timestamps to their unit, strings in VARCHARs that can be indexed.
 *
 * Avro → SQL (staging tables):
 *   string                         VARCHAR(n): n = 255, or the spec's staging.columns (varchar(n) or text)
 *   enum                           VARCHAR(255)
 *   string uuid                    CHAR(36)
 *   int / long                     INT / BIGINT
 *   float / double                 FLOAT / DOUBLE
 *   boolean                        BOOLEAN
 *   bytes / fixed(n)               LONGBLOB (VARBINARY(255) in a primary key) / BINARY(n)
 *   bytes|fixed decimal(p,s)       DECIMAL(p,s)
 *   long [local-]timestamp-millis  DATETIME(3) (UTC)
 *   long [local-]timestamp-micros  DATETIME(6) (UTC)
 *   int date                       DATE
 *   int time-millis / long time-micros   TIME(3) / TIME(6)
 *   ["null", T]                    T, nullable; every other type NOT NULL
 *   record, array, map, other unions     JSON
 */
export const DEFAULT_VARCHAR = 255;
/** MySQL's limits: DECIMAL(65,30), and a VARCHAR of 16,383 utf8mb4 characters. */
const MAX_DECIMAL_PRECISION = 65;
const MAX_DECIMAL_SCALE = 30;
const MAX_VARCHAR = 16_383;

export interface Column {
  name: string;
  /** The record field the column is filled from. */
  field: string;
  sqlType: string;
  nullable: boolean;
  /** A record's value as a mysql2 parameter; throws PermanentError when the column cannot hold it. */
  toSql: ToSql;
}

interface SqlColumnType {
  sqlType: string;
  toSql: ToSql;
}

/** A string column's declared type in a spec: `text`, or `varchar(n)`. */
export type StringColumnType = 'text' | `varchar(${number})`;

/**
 * A model table's column types, as a spec names them:
 *   string (VARCHAR(255)), varchar(n), text, int, long, double, boolean,
 *   decimal(p,s), date, time / time(3) / time(6), timestamp (= timestamp(3)),
 *   timestamp(6), bytes, uuid, json.
 */
export function modelColumnType(type: string, inKey: boolean): SqlColumnType | string {
  const plain: Record<string, SqlColumnType> = {
    string: varchar(DEFAULT_VARCHAR),
    text: { sqlType: 'TEXT', toSql: stringValue(undefined) },
    int: { sqlType: 'INT', toSql: intValue },
    long: { sqlType: 'BIGINT', toSql: longValue },
    double: { sqlType: 'DOUBLE', toSql: doubleValue },
    boolean: { sqlType: 'BOOLEAN', toSql: booleanValue },
    date: { sqlType: 'DATE', toSql: dateValue },
    time: { sqlType: 'TIME(3)', toSql: timeValue('millis') },
    'time(3)': { sqlType: 'TIME(3)', toSql: timeValue('millis') },
    'time(6)': { sqlType: 'TIME(6)', toSql: timeValue('micros') },
    timestamp: { sqlType: 'DATETIME(3)', toSql: timestampValue('millis') },
    'timestamp(3)': { sqlType: 'DATETIME(3)', toSql: timestampValue('millis') },
    'timestamp(6)': { sqlType: 'DATETIME(6)', toSql: timestampValue('micros') },
    bytes: { sqlType: inKey ? 'VARBINARY(255)' : 'LONGBLOB', toSql: bytesValue },
    uuid: { sqlType: 'CHAR(36)', toSql: uuidValue },
    json: { sqlType: 'JSON', toSql: jsonValue },
  };
  const known = plain[type];
  if (known !== undefined) return known;
  const sized = /^varchar\((\d+)\)$/.exec(type);
  if (sized !== null)
    return Number(sized[1]) >= 1 && Number(sized[1]) <= MAX_VARCHAR ? varchar(Number(sized[1])) : `varchar takes 1 to ${MAX_VARCHAR} characters`;
  const decimal = /^decimal\((\d+), ?(\d+)\)$/.exec(type);
  if (decimal !== null) return decimalColumn(Number(decimal[1]), Number(decimal[2]));
  return `must be one of ${[...Object.keys(plain), 'varchar(n)', 'decimal(p,s)'].join(', ')}`;
}

/** fieldName → field_name: column names follow SQL convention. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * The staging table's columns for a record schema. `strings` sets a string
 * field's column (text, or varchar(n)); a field not named gets VARCHAR(255).
 * Throws PermanentError naming the field when MySQL cannot hold its type.
 */
export function columnsFromAvro(
  schema: avro.schema.RecordType,
  primaryKey: readonly string[],
  strings: Readonly<Record<string, StringColumnType>> = {},
): Column[] {
  const record = avroType(schema as avro.Schema) as avro.types.RecordType;
  return record.fields.map((field) => {
    const inKey = primaryKey.includes(field.name);
    const { type, nullable } = unwrapNullable(field.type);
    const column = avroColumn(type, inKey, strings[field.name]);
    if (typeof column === 'string') throw new PermanentError(`field ${field.name}: ${column}`);
    return { name: snakeCase(field.name), field: field.name, ...column, nullable: nullable && !inKey };
  });
}

export function columnsFromModel(columns: Record<string, string>, primaryKey: readonly string[]): Column[] {
  return Object.entries(columns).map(([name, type]) => {
    const column = modelColumnType(type, primaryKey.includes(name));
    if (typeof column === 'string') throw new PermanentError(`column ${name}: ${type} ${column}`);
    return { name, field: name, ...column, nullable: !primaryKey.includes(name) };
  });
}

function unwrapNullable(type: avro.Type): { type: avro.Type; nullable: boolean } {
  const union = type as avro.types.UnwrappedUnionType & { types?: avro.Type[] };
  if (type.typeName.startsWith('union') && union.types !== undefined) {
    const others = union.types.filter((branch) => branch.typeName !== 'null');
    if (others.length === 1 && others.length < union.types.length) return { type: others[0]!, nullable: true };
  }
  return { type, nullable: false };
}

function avroColumn(type: avro.Type, inKey: boolean, declared: StringColumnType | undefined): SqlColumnType | string {
  if (type instanceof DecimalType) return decimalColumn(type.precision, type.scale);
  if (type instanceof TimestampType) {
    return { sqlType: type.unit === 'micros' ? 'DATETIME(6)' : 'DATETIME(3)', toSql: timestampValue(type.unit) };
  }
  if (type instanceof DateType) return { sqlType: 'DATE', toSql: dateValue };
  if (type instanceof TimeType) return { sqlType: type.unit === 'micros' ? 'TIME(6)' : 'TIME(3)', toSql: timeValue(type.unit) };
  if (type instanceof UuidType) return { sqlType: 'CHAR(36)', toSql: uuidValue };
  if (declared !== undefined && kindOf(type) !== 'string') return `staging.columns declares ${declared}, but the field is a ${kindOf(type)}`;
  switch (kindOf(type)) {
    case 'string':
      if (inKey && declared === 'text') return 'a primary key column cannot be text (MySQL indexes only a prefix of it): declare varchar(n)';
      return declared === undefined ? varchar(DEFAULT_VARCHAR) : (modelColumnType(declared, inKey) as SqlColumnType | string);
    case 'enum':
      return varchar(DEFAULT_VARCHAR);
    case 'int':
      return { sqlType: 'INT', toSql: intValue };
    case 'long':
      return { sqlType: 'BIGINT', toSql: longValue };
    case 'float':
      return { sqlType: 'FLOAT', toSql: floatValue };
    case 'double':
      return { sqlType: 'DOUBLE', toSql: doubleValue };
    case 'boolean':
      return { sqlType: 'BOOLEAN', toSql: booleanValue };
    case 'bytes':
      return { sqlType: inKey ? 'VARBINARY(255)' : 'LONGBLOB', toSql: bytesValue };
    case 'fixed':
      return { sqlType: `BINARY(${(type as avro.types.FixedType).size})`, toSql: bytesValue };
    default:
      return { sqlType: 'JSON', toSql: jsonValue };
  }
}

function varchar(length: number): SqlColumnType {
  return { sqlType: `VARCHAR(${length})`, toSql: stringValue(length) };
}

function decimalColumn(precision: number, scale: number): SqlColumnType | string {
  if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale > MAX_DECIMAL_SCALE || scale > precision) {
    return `decimal(${precision},${scale}) does not fit MySQL's DECIMAL (precision 1–${MAX_DECIMAL_PRECISION}, scale 0–${MAX_DECIMAL_SCALE} and at most the precision)`;
  }
  return { sqlType: `DECIMAL(${precision},${scale})`, toSql: decimalValue(precision, scale) };
}

import { PermanentError } from '../errors.ts';
import type avro from 'avsc';

/**
 * How kelt maps schemas to MySQL columns. The SQL runs on MySQL 8.x and
 * MariaDB 10.11 alike (JSON is LONGTEXT with a check on MariaDB).
 *
 * Avro → SQL (staging tables):
 *   string            TEXT, or VARCHAR(255) in a primary key
 *   enum              VARCHAR(255)
 *   int / long        INT / BIGINT
 *   float / double    FLOAT / DOUBLE
 *   boolean           BOOLEAN
 *   bytes / fixed(n)  LONGBLOB, or VARBINARY(255) in a primary key / BINARY(n)
 *   long timestamp-millis   DATETIME(3) (UTC)
 *   long timestamp-micros   DATETIME(6) (UTC)
 *   int date          DATE
 *   ["null", T]       T, nullable; every other type NOT NULL
 *   record, array, map, other unions   JSON
 */
export const modelColumnTypes = ['string', 'text', 'int', 'long', 'double', 'boolean', 'timestamp', 'json'] as const;
export type ModelColumnType = (typeof modelColumnTypes)[number];

/** How a value is turned into a SQL parameter. */
export type ValueKind = 'plain' | 'timestamp-millis' | 'timestamp-micros' | 'date' | 'json';

export interface Column {
  name: string;
  /** The record field the column is filled from. */
  field: string;
  sqlType: string;
  nullable: boolean;
  kind: ValueKind;
}

const modelSql: Record<ModelColumnType, { sqlType: string; kind: ValueKind }> = {
  string: { sqlType: 'VARCHAR(255)', kind: 'plain' },
  text: { sqlType: 'TEXT', kind: 'plain' },
  int: { sqlType: 'INT', kind: 'plain' },
  long: { sqlType: 'BIGINT', kind: 'plain' },
  double: { sqlType: 'DOUBLE', kind: 'plain' },
  boolean: { sqlType: 'BOOLEAN', kind: 'plain' },
  timestamp: { sqlType: 'DATETIME(3)', kind: 'timestamp-millis' },
  json: { sqlType: 'JSON', kind: 'json' },
};

/** fieldName → field_name: column names follow SQL convention. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

export function columnsFromAvro(schema: avro.schema.RecordType, primaryKey: readonly string[]): Column[] {
  return schema.fields.map((field) => {
    const inKey = primaryKey.includes(field.name);
    const { type, nullable } = unwrapNullable(field.type as avro.schema.DefinedType);
    const { sqlType, kind } = avroSql(type, inKey);
    return { name: snakeCase(field.name), field: field.name, sqlType, nullable: nullable && !inKey, kind };
  });
}

export function columnsFromModel(columns: Record<string, ModelColumnType>, primaryKey: readonly string[]): Column[] {
  return Object.entries(columns).map(([name, type]) => ({
    name,
    field: name,
    ...modelSql[type],
    nullable: !primaryKey.includes(name),
  }));
}

function unwrapNullable(type: avro.schema.DefinedType): { type: avro.schema.DefinedType; nullable: boolean } {
  if (Array.isArray(type)) {
    const others = type.filter((branch) => branch !== 'null');
    if (others.length === 1 && others.length < type.length) return { type: others[0]!, nullable: true };
  }
  return { type, nullable: false };
}

function avroSql(type: avro.schema.DefinedType, inKey: boolean): { sqlType: string; kind: ValueKind } {
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return { sqlType: inKey ? 'VARCHAR(255)' : 'TEXT', kind: 'plain' };
      case 'int':
        return { sqlType: 'INT', kind: 'plain' };
      case 'long':
        return { sqlType: 'BIGINT', kind: 'plain' };
      case 'float':
        return { sqlType: 'FLOAT', kind: 'plain' };
      case 'double':
        return { sqlType: 'DOUBLE', kind: 'plain' };
      case 'boolean':
        return { sqlType: 'BOOLEAN', kind: 'plain' };
      case 'bytes':
        return { sqlType: inKey ? 'VARBINARY(255)' : 'LONGBLOB', kind: 'plain' };
      default:
        return { sqlType: 'JSON', kind: 'json' };
    }
  }
  if (Array.isArray(type)) return { sqlType: 'JSON', kind: 'json' };
  const logical = (type as { logicalType?: string }).logicalType;
  switch (type.type) {
    case 'long':
      if (logical === 'timestamp-millis') return { sqlType: 'DATETIME(3)', kind: 'timestamp-millis' };
      if (logical === 'timestamp-micros') return { sqlType: 'DATETIME(6)', kind: 'timestamp-micros' };
      return { sqlType: 'BIGINT', kind: 'plain' };
    case 'int':
      return logical === 'date' ? { sqlType: 'DATE', kind: 'date' } : { sqlType: 'INT', kind: 'plain' };
    case 'enum':
      return { sqlType: 'VARCHAR(255)', kind: 'plain' };
    case 'fixed':
      return { sqlType: `BINARY(${(type as avro.schema.FixedType).size})`, kind: 'plain' };
    case 'string':
    case 'float':
    case 'double':
    case 'boolean':
    case 'bytes':
      return avroSql(type.type, inKey);
    default:
      return { sqlType: 'JSON', kind: 'json' };
  }
}

/** A record's value as a mysql2 parameter for a column of this kind. */
export function sqlValue(value: unknown, kind: ValueKind): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'plain':
      // The driver would turn an object into SQL of its own (`a` = 1, …),
      // which MySQL refuses as a syntax error that no retry fixes.
      if (typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
        throw new PermanentError(`${Array.isArray(value) ? 'an array' : 'an object'} is not a value of this column (declare it json)`, {
          reason: 'transform_error',
        });
      }
      return value;
    case 'timestamp-millis':
      return value instanceof Date ? value : new Date(Number(value));
    case 'timestamp-micros':
      return new Date(Number(value) / 1000);
    case 'date':
      return new Date(Number(value) * 86_400_000);
    case 'json':
      try {
        return JSON.stringify(value);
      } catch (error) {
        // A BigInt or a cycle: no JSON text exists for it, however often it is tried.
        throw new PermanentError(`not representable as JSON: ${(error as Error).message}`, { reason: 'transform_error', cause: error });
      }
  }
}

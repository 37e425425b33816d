import { describe, expect, it } from 'vitest';
import type avro from 'avsc';
import { MySqlTable } from '../../../src/mysql/table.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import { columnsFromAvro, snakeCase, sqlValue } from '../../../src/pipeline/sql-types.ts';

const schema = {
  type: 'record',
  name: 'Everything',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'count', type: 'int' },
    { name: 'total', type: 'long' },
    { name: 'ratio', type: 'double' },
    { name: 'flag', type: 'boolean' },
    { name: 'blob', type: 'bytes' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'either', type: ['int', 'string'] },
  ],
} as avro.schema.RecordType;

describe('Avro → SQL columns', () => {
  it('maps every Avro type as documented', () => {
    const columns = columnsFromAvro(schema, ['id']);
    expect(columns.map((c) => [c.name, c.sqlType, c.nullable])).toEqual([
      ['id', 'VARCHAR(255)', false],
      ['note', 'TEXT', true],
      ['count', 'INT', false],
      ['total', 'BIGINT', false],
      ['ratio', 'DOUBLE', false],
      ['flag', 'BOOLEAN', false],
      ['blob', 'LONGBLOB', false],
      ['at', 'DATETIME(3)', false],
      ['day', 'DATE', false],
      ['kind', 'VARCHAR(255)', false],
      ['tags', 'JSON', false],
      ['either', 'JSON', false],
    ]);
  });

  it('names columns in snake_case', () => {
    expect(snakeCase('eventId')).toBe('event_id');
    expect(snakeCase('keltSourceOffset')).toBe('kelt_source_offset');
    expect(snakeCase('userIDHash')).toBe('user_id_hash');
  });

  it('converts values for their columns', () => {
    expect(sqlValue(0, 'timestamp-millis')).toEqual(new Date(0));
    expect(sqlValue(1_000_000, 'timestamp-micros')).toEqual(new Date(1_000));
    expect(sqlValue(1, 'date')).toEqual(new Date(86_400_000));
    expect(sqlValue(['a'], 'json')).toBe('["a"]');
    expect(sqlValue(null, 'json')).toBeNull();
  });

  it('adds the source position to the extracted schema and the staging table', () => {
    const table = new MySqlTable('stg', columnsFromAvro(extractedSchema(schema), ['id']), ['id']);
    const ddl = table.createSql();
    expect(ddl).toContain('`kelt_source_topic` TEXT NOT NULL');
    expect(ddl).toContain('`kelt_source_offset` BIGINT NOT NULL');
    expect(ddl).toContain('`kelt_ingested_at` DATETIME(3) NOT NULL');
    expect(ddl).toContain('PRIMARY KEY (`id`)');
  });
});

import { describe, expect, it } from 'vitest';
import type avro from 'avsc';
import { PermanentError } from '../../../src/errors.ts';
import { MySqlTable } from '../../../src/mysql/table.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import { columnsFromAvro, columnsFromModel, modelColumnType, snakeCase } from '../../../src/pipeline/sql-types.ts';

const schema = {
  type: 'record',
  name: 'Everything',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'body', type: 'string' },
    { name: 'count', type: 'int' },
    { name: 'total', type: 'long' },
    { name: 'ratio', type: 'double' },
    { name: 'flag', type: 'boolean' },
    { name: 'blob', type: 'bytes' },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 16 } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'rate', type: ['null', { type: 'fixed', name: 'Rate', size: 8, logicalType: 'decimal', precision: 18, scale: 6 }], default: null },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'updatedAt', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'localAt', type: { type: 'long', logicalType: 'local-timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'opens', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'closes', type: { type: 'long', logicalType: 'time-micros' } },
    { name: 'ref', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'long' } },
    { name: 'address', type: ['null', { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] }], default: null },
    { name: 'either', type: ['int', 'string'] },
  ],
} as avro.schema.RecordType;

describe('Avro → SQL columns', () => {
  it('maps every Avro type as the table of docs/pipelines.md says', () => {
    const columns = columnsFromAvro(schema, ['id'], { body: 'text', note: 'varchar(1000)' });
    expect(columns.map((c) => [c.name, c.sqlType, c.nullable])).toEqual([
      ['id', 'VARCHAR(255)', false],
      ['note', 'VARCHAR(1000)', true],
      ['body', 'TEXT', false],
      ['count', 'INT', false],
      ['total', 'BIGINT', false],
      ['ratio', 'DOUBLE', false],
      ['flag', 'BOOLEAN', false],
      ['blob', 'LONGBLOB', false],
      ['hash', 'BINARY(16)', false],
      ['amount', 'DECIMAL(12,2)', false],
      ['rate', 'DECIMAL(18,6)', true],
      ['at', 'DATETIME(3)', false],
      ['updated_at', 'DATETIME(6)', false],
      ['local_at', 'DATETIME(6)', false],
      ['day', 'DATE', false],
      ['opens', 'TIME(3)', false],
      ['closes', 'TIME(6)', false],
      ['ref', 'CHAR(36)', false],
      ['kind', 'VARCHAR(255)', false],
      ['tags', 'JSON', false],
      ['attrs', 'JSON', false],
      ['address', 'JSON', true],
      ['either', 'JSON', false],
    ]);
  });

  it('refuses what MySQL cannot hold, naming the field', () => {
    const wide = {
      ...schema,
      fields: [{ name: 'x', type: { type: 'bytes', logicalType: 'decimal', precision: 70, scale: 2 } }],
    } as avro.schema.RecordType;
    expect(() => columnsFromAvro(wide, [])).toThrow(/field x: decimal\(70,2\) does not fit/);
    expect(() => columnsFromAvro(schema, ['id'], { id: 'text' })).toThrow(/field id: a primary key column cannot be text/);
    expect(() => columnsFromAvro(schema, ['id'], { count: 'text' })).toThrow(/field count: staging.columns declares text, but the field is a int/);
  });

  it('names columns in snake_case', () => {
    expect(snakeCase('eventId')).toBe('event_id');
    expect(snakeCase('keltSourceOffset')).toBe('kelt_source_offset');
    expect(snakeCase('userIDHash')).toBe('user_id_hash');
  });

  it('writes staging values exactly, as MySQL text where a float or a Date would lose them', () => {
    const table = new MySqlTable('stg', columnsFromAvro(schema, ['id']), ['id']);
    const row = table.rowOf({
      id: 'a',
      note: null,
      body: '😀'.repeat(255),
      count: 1,
      total: 2,
      ratio: 0.5,
      flag: true,
      blob: Buffer.from([0xff]),
      hash: Buffer.alloc(16),
      amount: '-0.01',
      rate: null,
      at: 1,
      updatedAt: 1,
      localAt: -1,
      day: '2024-02-29',
      opens: '00:00:00.001',
      closes: '23:59:59.999999',
      ref: '123E4567-E89B-12D3-A456-426614174000',
      kind: 'A',
      tags: ['x'],
      attrs: { n: 1 },
      address: { city: 'Oslo' },
      either: 3,
    });
    expect(row).toEqual([
      'a',
      null,
      '😀'.repeat(255),
      1,
      2,
      0.5,
      true,
      Buffer.from([0xff]),
      Buffer.alloc(16),
      '-0.01',
      null,
      '1970-01-01 00:00:00.001',
      '1970-01-01 00:00:00.000001',
      '1969-12-31 23:59:59.999999',
      '2024-02-29',
      '00:00:00.001',
      '23:59:59.999999',
      '123e4567-e89b-12d3-a456-426614174000',
      'A',
      '["x"]',
      '{"n":1}',
      '{"city":"Oslo"}',
      '3',
    ]);
    expect(() => table.rowOf({ id: 'a', body: '😀'.repeat(256) })).toThrow(/stg\.body: 256 characters do not fit VARCHAR\(255\)/);
  });

  it('adds the source position to the extracted schema and the staging table', () => {
    const table = new MySqlTable('stg', columnsFromAvro(extractedSchema(schema), ['id']), ['id']);
    const ddl = table.createSql();
    expect(ddl).toContain('`kelt_source_topic` VARCHAR(255) NOT NULL');
    expect(ddl).toContain('`kelt_source_offset` BIGINT NOT NULL');
    expect(ddl).toContain('`kelt_ingested_at` DATETIME(3) NOT NULL');
    expect(ddl).toContain('PRIMARY KEY (`id`)');
  });
});

describe('model column types', () => {
  it('maps each declared type, and names the ones that do not exist', () => {
    const columns = columnsFromModel(
      { id: 'uuid', amount: 'decimal(12,2)', at: 'timestamp(6)', day: 'date', t: 'time(6)', name: 'varchar(64)', raw: 'bytes', doc: 'json' },
      ['id'],
    );
    expect(columns.map((c) => c.sqlType)).toEqual(['CHAR(36)', 'DECIMAL(12,2)', 'DATETIME(6)', 'DATE', 'TIME(6)', 'VARCHAR(64)', 'LONGBLOB', 'JSON']);
    expect(modelColumnType('decimal(66,2)', false)).toMatch(/does not fit MySQL’s DECIMAL|does not fit MySQL's DECIMAL/);
    expect(modelColumnType('float', false)).toMatch(/must be one of string, varchar\(n\)|must be one of/);
  });

  it('takes a transform’s values in every documented form, and refuses a value it would have to round', () => {
    const [amount, at, day, t, name, doc] = columnsFromModel(
      { amount: 'decimal(12,2)', at: 'timestamp(6)', day: 'date', t: 'time(3)', name: 'varchar(3)', doc: 'json' },
      [],
    );
    expect([12.5, '12.50', 7n, '-0.01'].map((v) => amount!.toSql(v))).toEqual(['12.50', '12.50', '7.00', '-0.01']);
    expect(() => amount!.toSql(0.1 + 0.2)).toThrow(PermanentError);
    expect(() => amount!.toSql('12345678901.00')).toThrow(/more than 12 digits/);
    expect(
      [1_700_000_000_000_001, '2023-11-14T22:13:20.000001Z', '2023-11-15T00:13:20.000001+02:00', new Date(1_700_000_000_000)].map((v) =>
        at!.toSql(v),
      ),
    ).toEqual(['2023-11-14 22:13:20.000001', '2023-11-14 22:13:20.000001', '2023-11-14 22:13:20.000001', '2023-11-14 22:13:20.000000']);
    expect([0, '2024-02-29', new Date(Date.UTC(2024, 1, 29, 23))].map((v) => day!.toSql(v))).toEqual(['1970-01-01', '2024-02-29', '2024-02-29']);
    expect(() => day!.toSql('2023-02-29')).toThrow(/not a date that exists/);
    expect(['12:00', 43_200_001].map((v) => t!.toSql(v))).toEqual(['12:00:00.000', '12:00:00.001']);
    expect(() => name!.toSql('abcd')).toThrow(/4 characters do not fit VARCHAR\(3\)/);
    expect(doc!.toSql({ n: 2n ** 64n, b: Buffer.from('hi') })).toBe('{"n":18446744073709551616,"b":"aGk="}');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => doc!.toSql(cycle)).toThrow(/not representable as JSON/);
  });
});

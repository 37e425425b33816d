import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { columnChange } from '../../../src/mysql/table-evolution.ts';
import { backwardProblems } from '../../../src/pipeline/schema-compatibility.ts';

const v1 = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
} as avro.schema.RecordType;

describe('schema evolution', () => {
  it('accepts an added field with a default, a widened type and a removed optional field', () => {
    const v2 = {
      ...v1,
      fields: [v1.fields[0]!, { name: 'qty', type: 'long' }, { name: 'currency', type: 'string', default: 'EUR' }],
    } as avro.schema.RecordType;
    expect(backwardProblems(v2, v1, 'version 1')).toEqual([]);
  });

  it('names the field and the rule of an incompatible change', () => {
    const v3 = { ...v1, fields: [v1.fields[0]!, { name: 'qty', type: 'string' }, { name: 'currency', type: 'string' }] } as avro.schema.RecordType;
    expect(backwardProblems(v3, v1, 'orders-value version 1')).toEqual([
      'field qty: int in orders-value version 1 cannot be read as string (BACKWARD: a type may only widen, e.g. int to long, float to double, or gain a union branch)',
      'field currency: added without a default, so records of orders-value version 1 have no value for it (BACKWARD: a new field needs a default)',
    ]);
  });

  it('widens columns, keeps wider ones, and refuses a change of kind', () => {
    expect(columnChange('int(11)', 'BIGINT')).toBe('widen');
    expect(columnChange('bigint(20)', 'INT')).toBe('keep');
    expect(columnChange('varchar(255)', 'VARCHAR(1024)')).toBe('widen');
    expect(columnChange('text', 'VARCHAR(255)')).toBe('keep');
    expect(columnChange('decimal(12,2)', 'DECIMAL(14,4)')).toBe('widen');
    expect(columnChange('decimal(12,2)', 'DECIMAL(12,4)')).toBe('refuse');
    expect(columnChange('datetime(3)', 'DATETIME(6)')).toBe('widen');
    expect(columnChange('tinyint(1)', 'BOOLEAN')).toBe('same');
    expect(columnChange('longtext', 'JSON')).toBe('same');
    expect(columnChange('int(11)', 'VARCHAR(255)')).toBe('refuse');
  });
});

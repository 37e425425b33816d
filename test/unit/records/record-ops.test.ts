import { describe, expect, it } from 'vitest';
import { isDelete, lastPerKey } from '../../../src/records/record-ops.ts';

describe('record operations', () => {
  it('keeps each key’s last operation, so deletes and upserts apply in their order', () => {
    const ops = [
      { key: 'a', op: 'upsert 1' },
      { key: 'b', op: 'delete' },
      { key: 'a', op: 'delete' },
      { key: 'b', op: 'upsert 2' },
      { key: 'c', op: 'delete' },
    ];
    expect([...lastPerKey(ops, (o) => o.key)].map((o) => `${o.key}:${o.op}`).sort()).toEqual(['a:delete', 'b:upsert 2', 'c:delete']);
  });

  it('reads the delete header', () => {
    const record = { key: null, value: null, offset: '0', timestamp: '0' };
    expect(isDelete({ ...record, headers: { 'kelt.op': Buffer.from('delete') } })).toBe(true);
    expect(isDelete(record)).toBe(false);
  });
});

import type { ConsumedRecord, RecordHeaders } from '../kafka/records.ts';

/**
 * Deletes travel through `<p>.extracted` and `<p>.loaded` as records with
 * the header `kelt.op: delete`: the deleting record itself (a field said
 * so), or no value at all (a tombstone, whose key is the staging row's
 * primary key). Every other record is an upsert.
 */
export const OP_HEADER = 'kelt.op';
export const deleteHeaders: RecordHeaders = { [OP_HEADER]: 'delete' };

export function isDelete(record: ConsumedRecord): boolean {
  const op = record.headers?.[OP_HEADER];
  return op !== undefined && String(Array.isArray(op) ? op[0] : op) === 'delete';
}

/**
 * The operations that decide the batch's outcome: each key's last one, in
 * their order. Every write replaces a whole row, so an upsert or a delete
 * makes every earlier operation on its key moot; keeping only the last lets
 * a batch's deletes and upserts be written as two statements in one
 * transaction and still apply in order.
 */
export function lastPerKey<T>(operations: readonly T[], keyOf: (operation: T) => string): Set<T> {
  const last = new Map<string, T>();
  for (const operation of operations) last.set(keyOf(operation), operation);
  return new Set(last.values());
}

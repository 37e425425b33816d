import type avro from 'avsc';
import { withExactNumbers } from '../avro/json-numbers.ts';
import { fieldMismatches } from '../avro/logical-types.ts';

/** An event's verdict: its key, or the field that refuses it and why. */
export type EventVerdict = { ok: true; key: string; event: Record<string, unknown> } | { ok: false; field: string; error: string };

/**
 * Checks one posted event against the pipeline's source schema by the rules
 * extract applies to a JSON source (decimals as exact text or numbers that
 * fit, times as ISO-8601 text or numbers in the type's unit), and more
 * strictly on one point: a field the schema does not declare refuses the
 * event, since writing it would drop the field without a word — a misspelt
 * name is the likeliest cause.
 */
export function checkEvent(type: avro.types.RecordType, keyField: string, event: unknown): EventVerdict {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { ok: false, field: '(event)', error: 'an event is a JSON object' };
  }
  // By the fields' own names: avsc's lookup is a plain object, where `constructor` or `__proto__` would be found.
  const declared = new Set(type.fields.map((field) => field.name));
  const undeclared = Object.keys(event).find((name) => !declared.has(name));
  if (undeclared !== undefined) {
    return { ok: false, field: undeclared, error: `${undeclared} is not a field of ${type.name ?? 'the schema'}` };
  }
  const exact = withExactNumbers(type, event) as Record<string, unknown>;
  const [first] = fieldMismatches(type, exact);
  if (first !== undefined) return { ok: false, field: first.field, error: first.message };
  const key = exact[keyField];
  if (key === null || key === undefined) return { ok: false, field: keyField, error: `${keyField} (the key field) is empty` };
  return { ok: true, key: String(key), event: exact };
}

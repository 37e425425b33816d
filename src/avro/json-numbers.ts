import type avro from 'avsc';
import { JsonNumberText } from '../values/exact-json.ts';
import { DecimalType, kindOf } from './logical-types.ts';

/**
 * A parsed JSON value with its JsonNumberTexts (exact-json.ts) turned into
 * what the schema's type at each place reads exactly: a decimal its digits,
 * an int or long (and the times and dates over them) its integer, a float
 * or double its nearest double. A number that is none of those (a fraction
 * where a long goes) is left as it is, for the schema check to refuse by name.
 */
export function withExactNumbers(type: avro.Type, value: unknown): unknown {
  if (value instanceof JsonNumberText) return numberOf(type, value);
  if (type.typeName.startsWith('union')) {
    for (const branch of (type as unknown as { types: avro.Type[] }).types) {
      const read = withExactNumbers(branch, value);
      if (branch.isValid(read)) return read;
    }
    return value;
  }
  if (Array.isArray(value)) {
    const items = (type as unknown as { itemsType?: avro.Type }).itemsType;
    return items === undefined ? value : value.map((item) => withExactNumbers(items, item));
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  const fields = (type as unknown as { fields?: Array<{ name: string; type: avro.Type }> }).fields;
  const values = (type as unknown as { valuesType?: avro.Type }).valuesType;
  if (fields === undefined && values === undefined) return value;
  const read: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    const at = fields === undefined ? values : fields.find((field) => field.name === name)?.type;
    read[name] = at === undefined ? inner : withExactNumbers(at, inner);
  }
  return read;
}

function numberOf(type: avro.Type, number: JsonNumberText): unknown {
  if (type instanceof DecimalType) return number.text;
  const underlying = (type as unknown as { underlyingType?: avro.Type }).underlyingType;
  const kind = kindOf(underlying ?? type);
  if (kind === 'double' || kind === 'float') return Number(number.text);
  if (kind === 'long' || kind === 'int') {
    if (/^-?\d+$/.test(number.text)) return kind === 'long' ? BigInt(number.text) : Number(number.text);
    const value = Number(number.text);
    // 1.0 or 1e3 where an integer goes: the same integer, when a double holds it exactly.
    if (Number.isSafeInteger(value)) return value;
  }
  return number;
}

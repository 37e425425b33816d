/**
 * One form for a column's value, whichever side it comes from: a row as the
 * transform's SQL parameters (column-values.ts: numbers, digits, booleans,
 * date and time text, Buffers) or a row as MySQL prints it back (text, and
 * Buffers for binary columns). An aggregate tells groups and members apart,
 * and takes away an old row's contribution, by these forms: the old row is
 * read from MySQL, the new one comes from the transform, and the two must
 * land on the same group.
 */
export type Canonical = (value: unknown) => unknown;

const keep: Canonical = (value) => (value === undefined ? null : value);
const integerText: Canonical = (value) => (value === null || value === undefined ? null : String(value));
const number: Canonical = (value) => (value === null || value === undefined ? null : Number(value));
const boolean: Canonical = (value) => (value === null || value === undefined ? null : value === true || value === 1 || value === '1');

/** The canonical form of a value of a column of `sqlType` (as sql-types.ts names it). */
export function canonicalOf(sqlType: string): Canonical {
  const base = /^[A-Z]+/.exec(sqlType.toUpperCase())![0];
  if (base === 'INT' || base === 'BIGINT') return integerText;
  if (base === 'DOUBLE' || base === 'FLOAT') return number;
  if (base === 'BOOLEAN') return boolean;
  return keep;
}

/** Orders canonical values of a column of `sqlType` (integers by value; dates and times as their fixed-width text). */
export function compareOf(sqlType: string): (a: unknown, b: unknown) => number {
  const base = /^[A-Z]+/.exec(sqlType.toUpperCase())![0];
  if (base === 'INT' || base === 'BIGINT') {
    return (a, b) => {
      const [x, y] = [BigInt(a as string), BigInt(b as string)];
      return x < y ? -1 : x > y ? 1 : 0;
    };
  }
  if (base === 'DOUBLE' || base === 'FLOAT') return (a, b) => Number(a) - Number(b);
  return (a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
}

/** Whether a column of `sqlType` holds bytes (MySQL sends them back as they are, not as text). */
export function isBinary(sqlType: string): boolean {
  return /^(BINARY|VARBINARY|LONGBLOB|BLOB)/i.test(sqlType);
}

/** Canonical values as one string that tells them apart exactly (each value's text, length-prefixed; bytes as hex). */
export function valuesKey(values: readonly unknown[]): string {
  let key = '';
  for (const value of values) {
    if (value === null || value === undefined) key += 'n;';
    else if (value instanceof Uint8Array) key += `b${value.length};${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
    else {
      const text = String(value);
      key += `v${text.length};${text}`;
    }
  }
  return key;
}

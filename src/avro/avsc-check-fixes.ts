import avro from 'avsc';

/**
 * Two fixes to how avsc (5.7.9) checks and writes ints and enums, each a way
 * one JSON record could fail as a bug (`extract_error`) or be written wrong
 * instead of being refused as the record's fault. Found by
 * test/unit/workers/extract-worker.property.test.ts (seed -1039284341); no
 * upstream issue found. Remove when avsc's checks do the same.
 *
 * 1. An int is checked with `val === (val | 0)`, which converts any value to
 *    a number first: an object whose `toString` is not a function (JSON
 *    `{"toString": 0}`) makes that conversion throw a TypeError. Only numbers
 *    are ints now.
 * 2. An enum symbol is looked up with `this._indices[val]`, a plain object:
 *    the same object throws on the lookup, and a string naming one of
 *    Object.prototype's members (`"toString"`, `"constructor"`) finds it, so
 *    it passed the check and was written with a function for its index. Only
 *    a string that is one of the symbols is an enum value now.
 */
interface EnumInternals {
  _indices: Record<string, number>;
}
interface Tap {
  writeLong(value: number): void;
}
type Hook = ((value: unknown, type: unknown) => void) | undefined;

const types = avro.types as unknown as {
  IntType: { prototype: { _check(val: unknown, flags: unknown, hook: Hook): boolean } };
  EnumType: { prototype: { _check(val: unknown, flags: unknown, hook: Hook): boolean; _write(tap: Tap, val: unknown): void } };
};

types.IntType.prototype._check = function check(val: unknown, _flags: unknown, hook: Hook) {
  const valid = typeof val === 'number' && val === (val | 0);
  if (!valid && hook !== undefined) hook(val, this);
  return valid;
};

function symbolIndex(type: EnumInternals, val: unknown): number | undefined {
  return typeof val === 'string' && Object.hasOwn(type._indices, val) ? type._indices[val] : undefined;
}

types.EnumType.prototype._check = function check(this: EnumInternals, val: unknown, _flags: unknown, hook: Hook) {
  const valid = symbolIndex(this, val) !== undefined;
  if (!valid && hook !== undefined) hook(val, this);
  return valid;
};

types.EnumType.prototype._write = function write(this: EnumInternals & { name?: string }, tap: Tap, val: unknown) {
  const index = symbolIndex(this, val);
  if (index === undefined) throw new Error(`invalid ${this.name ?? 'enum'}: ${typeof val === 'string' ? JSON.stringify(val) : typeof val}`);
  tap.writeLong(index);
};

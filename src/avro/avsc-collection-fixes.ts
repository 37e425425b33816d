import avro from 'avsc';

/**
 * Two fixes to how avsc (5.7.9) reads Avro arrays and maps, each a way one
 * record could harm a stage rather than be dead-lettered. Both were found by
 * test/unit/workers/extract-worker.property.test.ts; no upstream issue found.
 * Remove when avsc's readers do the same.
 *
 * 1. A block count is believed: seven bytes claiming 2^31 items made avsc
 *    allocate and loop 2^31 times past the end of the buffer (it only
 *    notices the buffer is short afterwards), so extract's worker ran out of
 *    memory, which ends the whole process, or spun for minutes. Reading
 *    stops as soon as the buffer is exhausted (the value is then refused as
 *    truncated), and a count larger than both the bytes left and 65,536 is
 *    refused at once (only zero-byte items, nulls, could fill it legitimately).
 * 2. A map is built by assignment (`val[key] = value`), so an entry keyed
 *    `__proto__` ran Object.prototype's setter instead of becoming an entry:
 *    the entry was silently lost, and a map of records got that record as
 *    its prototype. Entries are defined as own properties, as JSON.parse
 *    makes them; avsc writes them back (it walks Object.keys).
 */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
  _invalidate(): void;
}
interface ItemType {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
  _copy(value: unknown, options: unknown): unknown;
}
interface ArrayTypeInternals {
  itemsType: ItemType;
  _read(tap: Tap): unknown[];
  _skip(tap: Tap): void;
}
interface MapTypeInternals {
  valuesType: ItemType;
  _read(tap: Tap): Record<string, unknown>;
  _skip(tap: Tap): void;
  _copy(value: unknown, options: unknown): unknown;
}

const exhausted = (tap: Tap) => tap.pos > tap.buf.length;

/**
 * The next block's item count, or 0 at the end of the collection. A
 * negative count is followed by the block's size in bytes (Avro's spec); an
 * implausible count invalidates the tap, which ends the read as truncated.
 */
function blockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong();
  }
  if (n > 65_536 && n > tap.buf.length - tap.pos) {
    tap._invalidate();
    return 0;
  }
  return exhausted(tap) ? 0 : n;
}

function setEntry(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}

const types = avro.types as unknown as { ArrayType: { prototype: ArrayTypeInternals }; MapType: { prototype: MapTypeInternals } };
const arrayType = types.ArrayType.prototype;
const mapType = types.MapType.prototype;
const copyMap = mapType._copy;

arrayType._read = function read(this: ArrayTypeInternals, tap: Tap) {
  const items: unknown[] = [];
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n-- > 0 && !exhausted(tap)) items.push(this.itemsType._read(tap));
  }
  return items;
};

arrayType._skip = function skip(this: ArrayTypeInternals, tap: Tap) {
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n-- > 0 && !exhausted(tap)) this.itemsType._skip(tap);
  }
};

mapType._read = function read(this: MapTypeInternals, tap: Tap) {
  const map: Record<string, unknown> = {};
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n-- > 0 && !exhausted(tap)) {
      const key = tap.readString();
      setEntry(map, key, this.valuesType._read(tap));
    }
  }
  return map;
};

mapType._skip = function skip(this: MapTypeInternals, tap: Tap) {
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n-- > 0 && !exhausted(tap)) {
      tap.skipString();
      this.valuesType._skip(tap);
    }
  }
};

mapType._copy = function copy(this: MapTypeInternals, value: unknown, options: unknown) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, '__proto__'))
    return copyMap.call(this, value, options);
  const copied: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setEntry(copied, key, this.valuesType._copy((value as Record<string, unknown>)[key], options));
  return copied;
};

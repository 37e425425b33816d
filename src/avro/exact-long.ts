import avro from 'avsc';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Avro's long, exact over its whole range: a number when it is a safe
 * integer, a bigint beyond. avsc 5.7's own long zigzag-encodes through
 * doubles, so past ±2^52 a value silently changes (-4503599627370497 reads
 * back as 4503599627370496); this one goes through the 64-bit integer.
 */
export const exactLong = avro.types.LongType.__with(
  {
    fromBuffer: (varint: Buffer) => unzigzag(readVarint(varint)),
    toBuffer: (value: number | bigint) => writeVarint(zigzag(value)),
    fromJSON: (value: unknown) => (typeof value === 'string' ? BigInt(value) : value),
    toJSON: (value: number | bigint) => (typeof value === 'bigint' ? value.toString() : value),
    isValid: (value: unknown) =>
      (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'bigint' && value >= -INT64_MAX - 1n && value <= INT64_MAX),
    compare: (a: number | bigint, b: number | bigint) => (a < b ? -1 : a > b ? 1 : 0),
  },
  // Hand over the varint as written: most longs fit 7 bytes, read with plain numbers, no bigint.
  true,
);

/** A varint's unsigned value: a number while exact (under 2^49), a bigint beyond. */
function readVarint(bytes: Buffer): number | bigint {
  if (bytes.length <= 7) {
    let value = 0;
    for (let i = bytes.length - 1; i >= 0; i--) value = value * 128 + (bytes[i]! & 0x7f);
    return value;
  }
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 7n) | BigInt(bytes[i]! & 0x7f);
  return value;
}

function unzigzag(value: number | bigint): number | bigint {
  if (typeof value === 'number') return value % 2 === 1 ? -(value + 1) / 2 : value / 2;
  const signed = (value & 1n) === 1n ? -((value + 1n) >> 1n) : value >> 1n;
  return signed >= -MAX_SAFE && signed <= MAX_SAFE ? Number(signed) : signed;
}

function zigzag(value: number | bigint): number | bigint {
  if (typeof value === 'number' && Math.abs(value) < 2 ** 48) return value >= 0 ? value * 2 : -value * 2 - 1;
  const big = BigInt(value);
  return big >= 0n ? big << 1n : (-big << 1n) - 1n;
}

function writeVarint(value: number | bigint): Buffer {
  const bytes: number[] = [];
  if (typeof value === 'number') {
    while (value >= 128) {
      bytes.push((value % 128) | 0x80);
      value = Math.floor(value / 128);
    }
    bytes.push(value);
  } else {
    while (value >= 128n) {
      bytes.push(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    bytes.push(Number(value));
  }
  return Buffer.from(bytes);
}

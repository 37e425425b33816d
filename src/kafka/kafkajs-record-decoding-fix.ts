import { createRequire } from 'node:module';
import { patchKafkajsModule } from './kafkajs-patch.ts';

const require = createRequire(import.meta.url);
const { LOG_APPEND_TIME } = require('kafkajs/src/protocol/timestampTypes.js') as { LOG_APPEND_TIME: number };

/** The part of kafkajs's Decoder a record is read with. */
interface RecordReader {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
  readVarIntString(): string | null;
}

/** What kafkajs's batch decoder hands each record's decoder (strings for its 64-bit fields). */
interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

/** A batch's first offset and timestamp, parsed once per batch instead of once per record. */
const bases = new WeakMap<BatchContext, { offset: bigint; timestamp: bigint }>();

/** Past this, a base plus a 32-bit delta may leave the doubles' exact integers: add as BigInt. */
const EXACT_BASE = BigInt(Number.MAX_SAFE_INTEGER) - 2n ** 33n;

function plus(base: bigint, delta: number | bigint): string {
  if (typeof delta === 'bigint' || base > EXACT_BASE || base < -EXACT_BASE) return (base + BigInt(delta)).toString();
  return String(Number(base) + delta);
}

/** A zigzag varlong: a double while it stays exact (7 bytes), else a BigInt. */
function readVarLong(reader: RecordReader): number | bigint {
  const { buffer } = reader;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const byte = buffer[reader.offset++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    scale *= 0x80;
  }
  let big = BigInt(value);
  for (let shift = 49n; ; shift += 7n) {
    if (shift > 63n) throw new RangeError('a varlong longer than 10 bytes');
    const byte = buffer[reader.offset++]!;
    big |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  big = BigInt.asUintN(64, big);
  return (big >> 1n) ^ -(big & 1n);
}

/**
 * kafkajs 2.2.4's record decoder, the same records without its costs: it
 * parses the batch's first offset and first timestamp from strings into
 * Longs for every record, reads each timestamp delta with Long arithmetic,
 * and rebuilds the headers object once per header. This parses the batch's
 * bases once, adds the deltas as doubles where that is exact (as BigInt
 * where it is not), and builds the headers in one pass, with kafkajs's
 * shapes: a header seen once is a Buffer, seen again an array. One
 * difference: a header named like a property every object inherits
 * (`constructor`, `toString`) is its value, where kafkajs made it an array
 * that starts with the inherited function.
 */
export function decodeRecord(reader: RecordReader, context: BatchContext) {
  let base = bases.get(context);
  if (base === undefined) {
    base = { offset: BigInt(context.firstOffset), timestamp: BigInt(context.firstTimestamp) };
    bases.set(context, base);
  }
  const attributes = reader.readInt8();
  const timestampDelta = readVarLong(reader);
  const timestamp = context.timestampType === LOG_APPEND_TIME && context.maxTimestamp ? context.maxTimestamp : plus(base.timestamp, timestampDelta);
  const offset = plus(base.offset, reader.readVarInt());
  const key = reader.readVarIntBytes();
  const value = reader.readVarIntBytes();
  const count = reader.readVarInt();
  const headers: Record<string, Buffer | null | Array<Buffer | null>> = {};
  for (let i = 0; i < count; i++) {
    const name = String(reader.readVarIntString());
    const headerValue = reader.readVarIntBytes();
    const seen = Object.hasOwn(headers, name) ? headers[name] : undefined;
    const values = seen === undefined ? headerValue : Array.isArray(seen) ? [...seen, headerValue] : [seen, headerValue];
    // A header named __proto__ is an own property (as kafkajs's object literal makes it), not the object's prototype.
    if (name === '__proto__') Object.defineProperty(headers, name, { value: values, enumerable: true, writable: true, configurable: true });
    else headers[name] = values;
  }
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: context.isControlBatch ?? false,
    batchContext: context,
  };
}

/** kafkajs's record decoder as kafkajs loads it: kelt's, with kafkajs's own kept for the tests' comparison. */
export type RecordDecoder = typeof decodeRecord & { kafkajs?: typeof decodeRecord };

patchKafkajsModule<RecordDecoder>('protocol/recordBatch/record/v0/decoder.js', 'protocol/recordBatch/v0/decoder.js', (kafkajs) =>
  Object.assign((reader: RecordReader, context: BatchContext) => decodeRecord(reader, context), { kafkajs }),
);

import { recordBatchCrc } from './kafkajs-crc-fix.ts';

/** A record as kafkajs's producer hands it to a Produce request. */
export interface ProduceMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  timestamp?: string | number | null;
  headers?: Record<string, Buffer | string | null | undefined | Array<Buffer | string>>;
}

/** kafkajs's Produce request arguments (v3 and later carry record batches). */
export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  /** A kafkajs Long (or a number); -1 without an idempotent producer. */
  producerId?: { toString(): string } | number;
  producerEpoch?: number;
  topicData: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence?: number; messages: ProduceMessage[] }> }>;
}

const MAGIC = 2;
const TRANSACTIONAL = 0x10;
/** Partition leader epoch, magic and CRC: the part of a batch's length before what its CRC covers. */
const BATCH_PREFIX_BYTES = 4 + 1 + 4;
/** Attributes, last offset delta, first and max timestamp, producer id and epoch, first sequence, record count. */
const BATCH_HEADER_BYTES = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

/** A record's parts as bytes, and its size without its own length prefix. */
interface EncodedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[Buffer, Buffer | null]>;
  timestampDelta: number;
  bodyBytes: number;
}

/**
 * The body of a Produce request (v3 to v7: uncompressed record batches of
 * magic 2), encoded into one buffer of its exact size. kafkajs 2.2.4 builds
 * every record, every header and every batch in its own growing Encoder and
 * copies each into the next (a new Buffer per record, and Long arithmetic
 * per timestamp): about half of a producing stage's main thread. This writes
 * the same bytes as kafkajs (byte for byte, see the unit test), with two
 * differences where kafkajs is wrong: the batch's first and max timestamps are
 * the records' numeric min and max (kafkajs sorts them as strings, and leaves
 * records without a timestamp out of the max).
 */
export function encodeProduceRequest(args: ProduceRequestArgs): Buffer {
  const transactionalId = args.transactionalId ?? null;
  const producerId = BigInt((args.producerId ?? -1).toString());
  const attributes = transactionalId === null ? 0 : TRANSACTIONAL;
  const now = Date.now();
  const topics = args.topicData.map(({ topic, partitions }) => ({
    name: Buffer.from(topic, 'utf8'),
    partitions: partitions.map(({ partition, firstSequence = 0, messages }) => {
      const timestamps = messages.map((message) => (message.timestamp == null || message.timestamp === '' ? now : Number(message.timestamp)));
      const first = timestamps.reduce((min, timestamp) => (timestamp < min ? timestamp : min), Infinity);
      const max = timestamps.reduce((top, timestamp) => (timestamp > top ? timestamp : top), -Infinity);
      const records = messages.map((message, i) => encodedRecord(message, i, timestamps[i]! - first));
      const recordsBytes = records.reduce((sum, record) => sum + varIntBytes(record.bodyBytes) + record.bodyBytes, 0);
      return { partition, firstSequence, first, max, records, batchBytes: 8 + 4 + BATCH_PREFIX_BYTES + BATCH_HEADER_BYTES + recordsBytes };
    }),
  }));
  const idBytes = transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8');
  let size = 2 + idBytes + 2 + 4 + 4;
  for (const topic of topics) {
    size += 2 + topic.name.length + 4;
    for (const partition of topic.partitions) size += 4 + 4 + partition.batchBytes;
  }
  const out = new Writer(Buffer.allocUnsafe(size));
  if (transactionalId === null) out.int16(-1);
  else out.int16(idBytes).utf8(transactionalId);
  out.int16(args.acks).int32(args.timeout).int32(topics.length);
  for (const topic of topics) {
    out.int16(topic.name.length).bytes(topic.name).int32(topic.partitions.length);
    for (const partition of topic.partitions) {
      out.int32(partition.partition).int32(partition.batchBytes);
      out
        .int64(0n)
        .int32(partition.batchBytes - 12)
        .int32(0)
        .int8(MAGIC);
      const crcAt = out.skip(4);
      const covered = out.offset;
      out.int16(attributes).int32(partition.records.length - 1);
      out.int64(BigInt(partition.first)).int64(BigInt(partition.max)).int64(producerId);
      out
        .int16(args.producerEpoch ?? 0)
        .int32(partition.firstSequence)
        .int32(partition.records.length);
      partition.records.forEach((record, i) => writeRecord(out, record, i));
      out.buffer.writeUInt32BE(recordBatchCrc(out.buffer.subarray(covered, out.offset)), crcAt);
    }
  }
  if (out.offset !== size) throw new Error(`a Produce request encoded to ${out.offset} bytes, sized ${size}`);
  return out.buffer;
}

function encodedRecord(message: ProduceMessage, offsetDelta: number, timestampDelta: number): EncodedRecord {
  const key = bytesOf(message.key);
  const value = bytesOf(message.value);
  const headers: Array<[Buffer, Buffer | null]> = [];
  for (const [name, values] of Object.entries(message.headers ?? {})) {
    if (values === undefined) continue;
    const nameBytes = Buffer.from(name, 'utf8');
    for (const headerValue of Array.isArray(values) ? values : [values]) headers.push([nameBytes, bytesOf(headerValue)]);
  }
  let bodyBytes =
    1 + varLongBytes(timestampDelta) + varIntBytes(offsetDelta) + nullableBytes(key) + nullableBytes(value) + varIntBytes(headers.length);
  for (const [name, headerValue] of headers) bodyBytes += varIntBytes(name.length) + name.length + nullableBytes(headerValue);
  return { key, value, headers, timestampDelta, bodyBytes };
}

function writeRecord(out: Writer, record: EncodedRecord, offsetDelta: number): void {
  out.varLong(record.bodyBytes).int8(0).varLong(record.timestampDelta).varLong(offsetDelta);
  out.nullable(record.key).nullable(record.value).varLong(record.headers.length);
  for (const [name, value] of record.headers) out.varLong(name.length).bytes(name).nullable(value);
}

function bytesOf(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

const nullableBytes = (bytes: Buffer | null): number => (bytes === null ? 1 : varIntBytes(bytes.length) + bytes.length);

/** ZigZag of a safe integer (as a non-negative safe integer for |value| < 2^52). */
const zigZag = (value: number): number => (value >= 0 ? value * 2 : -value * 2 - 1);

function varLongBytes(value: number): number {
  let rest = zigZag(value);
  let bytes = 1;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    bytes++;
  }
  return bytes;
}

const varIntBytes = varLongBytes;

/** Writes big-endian integers, zigzag varints and bytes into a buffer sized beforehand. */
class Writer {
  readonly buffer: Buffer;
  offset = 0;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  int8(value: number): this {
    this.offset = this.buffer.writeInt8(value, this.offset);
    return this;
  }

  int16(value: number): this {
    this.offset = this.buffer.writeInt16BE(value, this.offset);
    return this;
  }

  int32(value: number): this {
    this.offset = this.buffer.writeInt32BE(value, this.offset);
    return this;
  }

  int64(value: bigint): this {
    this.offset = this.buffer.writeBigInt64BE(value, this.offset);
    return this;
  }

  /** Leaves `length` bytes to write later; returns where they start. */
  skip(length: number): number {
    this.offset += length;
    return this.offset - length;
  }

  utf8(value: string): this {
    this.offset += this.buffer.write(value, this.offset, 'utf8');
    return this;
  }

  bytes(value: Buffer): this {
    this.offset += value.copy(this.buffer, this.offset);
    return this;
  }

  varLong(value: number): this {
    let rest = zigZag(value);
    while (rest >= 0x80) {
      this.buffer[this.offset++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.offset++] = rest;
    return this;
  }

  nullable(value: Buffer | null): this {
    return value === null ? this.varLong(-1) : this.varLong(value.length).bytes(value);
  }
}

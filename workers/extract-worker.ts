import { isUtf8 } from 'node:buffer';
import type avro from 'avsc';
import { withExactNumbers } from '../src/avro/json-numbers.ts';
import { mismatches } from '../src/avro/logical-types.ts';
import { parseExactJson } from '../src/values/exact-json.ts';
import { PermanentError } from '../src/errors.ts';
import { frame, unframe } from '../src/registry/wire-format.ts';
import { resolverOf, typeOf } from '../src/threads/avro-types.ts';
import type { ExtractOutcome, ExtractResult, ExtractTask } from '../src/threads/extract-task.ts';
import { packBytes, unpackBytes } from '../src/threads/packed-bytes.ts';
import type { DeadLetterReason } from '../src/stages/dead-letter.ts';
import { changeEventOf, changeEventOfJson, rowEncodingOfAvroSchema, type ChangeEvent, type RowEncoding } from '../src/debezium/change-event.ts';

/**
 * Extract's worker: decode (Avro in the Confluent wire format, or JSON),
 * validate against the pipeline's schema, add the source position and ingest
 * time, encode as the extracted schema and compute the new key. One task is a
 * chunk of one partition's batch; outcomes come back in the chunk's order.
 */
/** A task's schemas and the extracted values it has pushed so far. */
interface TaskContext {
  task: ExtractTask;
  reader: avro.Type;
  extracted: avro.Type;
  values: Array<Buffer | null>;
}

export default function extract(task: ExtractTask): ExtractResult {
  const reader = typeOf(task.readerSchema);
  const values: Array<Buffer | null> = [];
  const context: TaskContext = { task, reader, extracted: typeOf(task.extractedSchema), values };
  const outcomes = unpackBytes(task.values).map((bytes, i): ExtractOutcome => {
    try {
      if (task.format === 'debezium') return debezium(context, bytes, i);
      if (bytes === null) {
        if (!task.deletes.tombstones) {
          throw new PermanentError('the record has no value (a tombstone), and the key field is not the staging table’s primary key', {
            reason: 'undecodable',
          });
        }
        values.push(null);
        return { ok: true, key: null, deletes: true };
      }
      const value = task.format === 'avro' ? decodeAvro(task, bytes) : decodeJson(bytes, reader);
      const key = extractedInto(context, value, i);
      const when = task.deletes.when;
      return { ok: true, key, deletes: when !== undefined && value[when.field] === when.equals };
    } catch (error) {
      values.push(null);
      return { ok: false, reason: reasonOf(error), error: (error as Error).message };
    }
  });
  // One contiguous buffer back instead of a clone of every small one (and of the slabs they view).
  return { outcomes, values: packBytes(values) };
}

/**
 * The record as the extracted schema holds it (the source position and
 * ingest time added), pushed onto `values`; returns its new key.
 */
function extractedInto({ values, task, extracted }: TaskContext, value: Record<string, unknown>, i: number): string {
  const key = value[task.keyField];
  if (key === null || key === undefined) throw new PermanentError(`key field ${task.keyField} is empty`, { reason: 'schema_violation' });
  const normalised = {
    ...value,
    keltSourceTopic: task.topic,
    keltSourcePartition: task.partition,
    keltSourceOffset: Number(task.offsets[i]),
    keltIngestedAt: task.ingestedAt,
  };
  values.push(frame(task.extractedSchemaId, encode(extracted, normalised)));
  return String(key);
}

/**
 * A Debezium change event: an insert, update or snapshot read upserts the
 * row after it; a delete deletes the row before it (its whole image, so it
 * is checked like any row). A tombstone (the key's compaction marker after a
 * delete) and a truncate are absorbed: the delete did the work, and a
 * truncate names no row.
 */
function debezium(context: TaskContext, bytes: Buffer | null, i: number): ExtractOutcome {
  const { task, reader, values } = context;
  if (bytes === null) {
    values.push(null);
    return { ok: true, absorbed: true };
  }
  const change = bytes[0] === 0 ? avroChangeEvent(task, bytes) : changeEventOfJson(parsedJson(bytes));
  if (change.op === 't') {
    values.push(null);
    return { ok: true, absorbed: true };
  }
  const key = extractedInto(context, checkedAgainst(reader, change.row), i);
  return { ok: true, key, deletes: change.op === 'd' };
}

/** The value as JSON, its numbers' digits kept (exact-json.ts); bytes that are not UTF-8 are the record's fault, never U+FFFD. */
function parsedJson(bytes: Buffer): unknown {
  if (!isUtf8(bytes)) throw new PermanentError('the value is not UTF-8 text, so not JSON', { reason: 'schema_violation' });
  try {
    return parseExactJson(bytes.toString('utf8'));
  } catch (error) {
    throw new PermanentError(`not JSON: ${(error as Error).message}`, { reason: 'undecodable' });
  }
}

/** How each writer schema's row fields are encoded, per writer schema text (a worker reads many records of few writers). */
const avroRowEncodings = new Map<string, RowEncoding>();

/** A change event written by Kafka Connect's Avro converter: the envelope decoded with its writer schema, its row's values by their connect.name. */
function avroChangeEvent(task: ExtractTask, bytes: Buffer): ChangeEvent {
  const { schemaId, payload } = unframe(bytes);
  const writer = task.writerSchemas[schemaId];
  if (writer === undefined) throw new PermanentError(`unknown schema id ${schemaId}`, { reason: 'unknown_schema' });
  let envelope: unknown;
  try {
    envelope = typeOf(writer).fromBuffer(payload);
  } catch (error) {
    throw new PermanentError(`the bytes do not decode with schema ${schemaId}: ${(error as Error).message}`, { reason: 'undecodable' });
  }
  let encoding = avroRowEncodings.get(writer);
  if (encoding === undefined) {
    encoding = rowEncodingOfAvroSchema(JSON.parse(writer));
    avroRowEncodings.set(writer, encoding);
  }
  return changeEventOf(envelope, encoding);
}

function decodeAvro(task: ExtractTask, bytes: Buffer): Record<string, unknown> {
  const { schemaId, payload } = unframe(bytes);
  const writer = task.writerSchemas[schemaId];
  if (writer === undefined) throw new PermanentError(`unknown schema id ${schemaId}`, { reason: 'unknown_schema' });
  const type = typeOf(writer);
  try {
    const resolver = resolverOf(writer, task.readerSchema);
    // Unresolvable (a newer writer widened a type): read as written; encode() checks each value against the pipeline's schema.
    if (resolver === undefined) return type.fromBuffer(payload) as Record<string, unknown>;
    return typeOf(task.readerSchema).fromBuffer(payload, resolver) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof PermanentError) throw error;
    throw new PermanentError(`the bytes do not decode with schema ${schemaId} (${type.name ?? 'unnamed'}): ${(error as Error).message}`, {
      reason: 'schema_violation',
    });
  }
}

function decodeJson(bytes: Uint8Array, reader: ReturnType<typeof typeOf>): Record<string, unknown> {
  return checkedAgainst(reader, parsedJson(Buffer.from(bytes)));
}

/** `value` as a record of the pipeline's schema, or the record's fault naming the fields that do not fit. */
function checkedAgainst(reader: ReturnType<typeof typeOf>, parsed: unknown): Record<string, unknown> {
  const value = withExactNumbers(reader, parsed);
  const problems = mismatches(reader, value);
  if (problems.length > 0) {
    throw new PermanentError(`does not match the schema: ${problems.slice(0, 5).join('; ')}`, { reason: 'schema_violation' });
  }
  return value as Record<string, unknown>;
}

/** The record in the extracted schema; a value that schema cannot hold (one a newer writer allows) is the record's fault. */
function encode(extracted: avro.Type, record: Record<string, unknown>): Buffer {
  try {
    return extracted.toBuffer(record);
  } catch (error) {
    // avsc checks each value as it writes it; ask it where, for the dead letter's message.
    const problems = mismatches(extracted, record);
    throw new PermanentError(`does not fit the pipeline's schema: ${problems.slice(0, 5).join('; ') || (error as Error).message}`, {
      reason: 'schema_violation',
      cause: error,
    });
  }
}

/** The reason a failure carries; a failure without one is not the record's fault alone (a bug in extract). */
function reasonOf(error: unknown): DeadLetterReason {
  if (error instanceof PermanentError) return error.reason ?? 'schema_violation';
  return 'extract_error';
}

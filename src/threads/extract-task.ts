import type { StagingDeletes } from '../pipeline/spec.ts';
import type { PackedBytes } from './packed-bytes.ts';
import type { DeadLetterReason } from '../errors.ts';
/** The messages of one extract task, and what the worker says of each. */
export interface ExtractTask {
  format: 'avro' | 'json' | 'debezium';
  topic: string;
  keyField: string;
  ingestedAt: number;
  /** The pipeline's value schema (JSON text): records are read as, and validated against, it. */
  readerSchema: string;
  extractedSchema: string;
  extractedSchemaId: number;
  /** Writer schemas of the chunk's Avro records, by registry id. */
  writerSchemas: Record<number, string>;
  partition: number;
  offsets: string[];
  /** The records' values, packed (transferred to the worker, not cloned). */
  values: PackedBytes;
  /** Which records delete (the spec's staging deletes). */
  deletes: StagingDeletes;
}

/**
 * A tombstone that deletes has no key of the worker's making (key null): its
 * own key names the row. An absorbed record (a Debezium tombstone or
 * truncate) is consumed and leaves nothing downstream.
 */
export type ExtractOutcome =
  { ok: true; key: string | null; deletes: boolean } | { ok: true; absorbed: true } | { ok: false; reason: DeadLetterReason; error: string };

/** What a worker says of each record of a task, and the extracted values (null where the record failed), packed. */
export interface ExtractResult {
  outcomes: ExtractOutcome[];
  values: PackedBytes;
}

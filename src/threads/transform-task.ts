import type { PackedBytes } from './packed-bytes.ts';
import type { DeadLetterReason } from '../errors.ts';
import type { Row } from '../transform/contract.ts';

/** A chunk of loaded records for the pipeline's transform module, and the rows it made of each. */
export interface TransformTask {
  modulePath: string;
  /** Writer schemas of the chunk's records, by registry id. */
  writerSchemas: Record<number, string>;
  /** The records' values, packed (transferred to the worker, not cloned). */
  values: PackedBytes;
  /** The chunk's deleting records by index; a tombstone's key (its staging primary key) with it. */
  deletes: Record<number, { key: string | null }>;
  /** The staging primary key's field, which a tombstone's key is the value of. */
  keyField: string;
  /** Where the worker is: it writes each record's index here before transforming it (see watched-chunk.ts). */
  progress: Int32Array;
}

export type TransformOutcome =
  /** `deletes`: the model rows (their primary keys) a deleting record removes. */
  { ok: true; rows: Record<string, Row[]>; deletes: Record<string, Row[]> } | { ok: false; reason: DeadLetterReason; error: string };

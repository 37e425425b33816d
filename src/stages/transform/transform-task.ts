import type { PackedBytes } from '../../workers/packed-bytes.ts';
import type { DeadLetterReason } from '../dead-letter.ts';
import type { Row } from '../../transform/contract.ts';

/** A chunk of loaded records for the pipeline's transform module, and the rows it made of each. */
export interface TransformTask {
  modulePath: string;
  /** Writer schemas of the chunk's records, by registry id. */
  writerSchemas: Record<number, string>;
  /** The records' values, packed (transferred to the worker, not cloned). */
  values: PackedBytes;
}

export type TransformOutcome =
  | { ok: true; rows: Record<string, Row[]> }
  | { ok: false; reason: DeadLetterReason; error: string };

import type { DeadLetterReason } from '../dead-letter.ts';
import type { Row } from '../../transform/contract.ts';

/** A chunk of loaded records for the pipeline's transform module, and the rows it made of each. */
export interface TransformTask {
  modulePath: string;
  /** Writer schemas of the chunk's records, by registry id. */
  writerSchemas: Record<number, string>;
  values: Array<Uint8Array | null>;
}

export type TransformOutcome =
  | { ok: true; rows: Record<string, Row[]>; eventTime: number | null }
  | { ok: false; reason: DeadLetterReason; error: string };

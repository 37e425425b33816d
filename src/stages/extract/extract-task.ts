import type { DeadLetterReason } from '../dead-letter.ts';
/** The messages of one extract task, and what the worker says of each. */
export interface ExtractTask {
  format: 'avro' | 'json';
  topic: string;
  keyField: string;
  ingestedAt: number;
  /** The pipeline's value schema (JSON text): records are read as, and validated against, it. */
  readerSchema: string;
  extractedSchema: string;
  extractedSchemaId: number;
  /** Writer schemas of the chunk's Avro records, by registry id. */
  writerSchemas: Record<number, string>;
  messages: Array<{ partition: number; offset: string; value: Uint8Array | null }>;
}

export type ExtractOutcome =
  | { ok: true; key: string; value: Uint8Array; eventTime: number | null }
  | { ok: false; reason: DeadLetterReason; error: string };

/**
 * What a pipeline's transform module exports: a default function from one
 * loaded record (the source fields plus kelt's `kelt*` metadata fields) to the
 * rows it produces, by model table name. It runs in a worker thread, so it may
 * be CPU-heavy; it must be deterministic, since a replay re-runs it. A thrown
 * error (or a rejected promise: the function may be async) dead-letters that record alone.
 */
export type Row = Record<string, unknown>;

export type TransformOutput = Record<string, Row | Row[] | null>;

export type TransformFunction = (record: Record<string, unknown>) => TransformOutput | Promise<TransformOutput>;

/**
 * A transform module's optional named export `remove`: told of a record that
 * deleted its staging row (the deleting record, or for a tombstone only the
 * primary key's field), it returns the model rows to delete, by table; each
 * row needs its table's primary key columns. Without it, deletes stop at
 * staging.
 */
export type RemoveFunction = TransformFunction;

/**
 * What a pipeline's sample generator exports (`kelt produce --generate`): a
 * default function from a sequence number to one raw event.
 */
export type GeneratorFunction = (sequence: number) => Record<string, unknown>;

/**
 * Many small byte strings (record values) in one contiguous buffer, for
 * passing a chunk of records to or from a worker thread in one piece.
 *
 * Why: a Kafka record's value is a view into the fetch response's buffer, and
 * structured cloning a view copies its whole backing ArrayBuffer. Packing
 * copies only the records' own bytes, once, and the packed buffer is then
 * transferred to the worker rather than cloned (see WorkerPool.run).
 */
export interface PackedBytes {
  bytes: Uint8Array;
  /** Length of each entry in `bytes`, in order; -1 for a null entry. */
  lengths: Int32Array;
}

export function packBytes(values: ReadonlyArray<Uint8Array | null>): PackedBytes {
  const lengths = new Int32Array(values.length);
  let total = 0;
  values.forEach((value, i) => {
    lengths[i] = value === null ? -1 : value.byteLength;
    total += value === null ? 0 : value.byteLength;
  });
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const value of values) {
    if (value === null) continue;
    bytes.set(value, at);
    at += value.byteLength;
  }
  return { bytes, lengths };
}

/** The entries of a packed buffer as Buffers viewing it (no copies). */
export function unpackBytes({ bytes, lengths }: PackedBytes): Array<Buffer | null> {
  const out: Array<Buffer | null> = new Array(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i]!;
    if (length < 0) {
      out[i] = null;
      continue;
    }
    out[i] = Buffer.from(bytes.buffer, bytes.byteOffset + at, length);
    at += length;
  }
  return out;
}

/** The buffers to transfer (not clone) with a message carrying these packed bytes. */
export function transferablesOf(packed: PackedBytes): ArrayBuffer[] {
  return [packed.bytes.buffer as ArrayBuffer, packed.lengths.buffer as ArrayBuffer];
}

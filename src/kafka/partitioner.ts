import type { ICustomPartitioner } from 'kafkajs';

/**
 * The Java client's key partitioner: murmur2 of the key bytes (seed
 * 0x9747b28c), made positive with `& 0x7fffffff`, modulo the partition
 * count. A key lands on the same partition whether kelt, the Java client or
 * librdkafka (`murmur2_random`) produced it, and on the same partition in
 * every topic of a pipeline, since they share a partition count.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = (data[i]! & 0xff) | ((data[i + 1]! & 0xff) << 8) | ((data[i + 2]! & 0xff) << 16) | ((data[i + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * kafkajs partitioner: a record that names its partition goes there (kafkajs
 * asks the partitioner even then, and its own partitioners check first); any
 * other is placed by its key. A dead letter keeps its original partition and
 * a redriven record goes back to it, whatever its key hashes to (a record a
 * producer placed itself, or one without a key).
 */
export const javaCompatiblePartitioner: ICustomPartitioner =
  () =>
  ({ partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) {
      throw new Error('kelt produces keyed records only: a record without a key reached the partitioner');
    }
    const key = typeof message.key === 'string' ? Buffer.from(message.key) : message.key;
    return partitionForKey(key, partitionMetadata.length);
  };

import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner, murmur2, partitionForKey } from '../../../src/kafka/partitioner.ts';

// The vectors of the Java client's own test (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
const javaVectors: Array<[Uint8Array, number]> = [
  [Buffer.from('21'), -973932308],
  [Buffer.from('foobar'), -790332482],
  [Buffer.from('a-little-bit-long-string'), -985981536],
  [Buffer.from('a-little-bit-longer-string'), -1486304829],
  [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
  [Uint8Array.from([0x61, 0x62, 0x63]), 479470107],
];

describe('murmur2, as the Java client computes it', () => {
  it.each(javaVectors)('hashes %s to %i', (key, expected) => {
    expect(murmur2(key)).toBe(expected);
  });

  it('hashes bytes above 0x7f as Java does with signed bytes', () => {
    // Java reads the key as signed bytes and masks them; the result must not depend on that.
    expect(murmur2(Buffer.from('ünïcødé'))).toBe(murmur2(Uint8Array.from(Buffer.from('ünïcødé'))));
  });

  it('picks the partition as toPositive(murmur2(key)) % partitions', () => {
    for (const [key, hash] of javaVectors) {
      expect(partitionForKey(key, 12)).toBe((hash & 0x7fffffff) % 12);
    }
  });
});

describe('the partitioner kelt gives kafkajs', () => {
  const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
  const place = javaCompatiblePartitioner();

  it('places a keyed record by murmur2 of its key', () => {
    expect(place({ topic: 't', partitionMetadata, message: { key: Buffer.from('foobar'), value: null } })).toBe(
      partitionForKey(Buffer.from('foobar'), 12),
    );
  });

  it('sends a record that names its partition there, keyed or not: a dead letter keeps its original partition', () => {
    const hashed = partitionForKey(Buffer.from('foobar'), 12);
    const elsewhere = (hashed + 5) % 12;
    expect(place({ topic: 't', partitionMetadata, message: { key: Buffer.from('foobar'), value: null, partition: elsewhere } })).toBe(elsewhere);
    expect(place({ topic: 't', partitionMetadata, message: { key: null, value: null, partition: 7 } })).toBe(7);
  });

  it('refuses a record with neither key nor partition', () => {
    expect(() => place({ topic: 't', partitionMetadata, message: { key: null, value: null } })).toThrow(/keyed records only/);
  });
});

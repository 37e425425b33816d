import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { partitionCountError } from '../../../src/kafka/partition-counts.ts';

describe('partitionCountError', () => {
  it('is undefined when every topic has the spec’s count', () => {
    expect(
      partitionCountError(
        new Map([
          ['p.raw', 4],
          ['p.extracted', 4],
        ]),
        4,
        'p.yaml',
      ),
    ).toBeUndefined();
  });

  it('names each differing topic and its count, and the count to set and migrate to', () => {
    const error = partitionCountError(
      new Map([
        ['p.raw', 6],
        ['p.extracted', 4],
        ['p.loaded', 2],
      ]),
      4,
      'p.yaml',
    )!;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues).toEqual(['p.raw has 6 partitions', 'p.loaded has 2 partitions']);
    expect(error.message).toContain("set 'partitions: 6' in p.yaml and run 'kelt migrate --pipeline p.yaml'");
  });

  it('asks for the spec’s own count when the topics have fewer', () => {
    expect(partitionCountError(new Map([['p.raw', 2]]), 4, 'p.yaml')!.message).toContain("'partitions: 4'");
  });
});

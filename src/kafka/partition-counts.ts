import { ConfigError } from '../errors.ts';

/**
 * Every topic of a pipeline has the spec's partition count: a stage places
 * each record by its key's hash over that count, keeps per-partition state
 * (positions, origins, transactional ids) by partition number, and a dead
 * letter keeps its record's partition. A topic with more partitions has
 * partitions nobody writes or reads in order; one with fewer drops sends.
 */
export function partitionCountError(counts: ReadonlyMap<string, number>, expected: number, specPath: string): ConfigError | undefined {
  const differing = [...counts].filter(([, count]) => count !== expected);
  if (differing.length === 0) return undefined;
  const largest = Math.max(expected, ...differing.map(([, count]) => count));
  return new ConfigError(
    `the pipeline's topics must each have the spec's ${expected} partitions; set 'partitions: ${largest}' in ${specPath} and run 'kelt migrate --pipeline ${specPath}', which grows every topic to it (Kafka cannot shrink a topic), then restart the stages`,
    differing.map(([topic, count]) => `${topic} has ${count} partitions`),
  );
}

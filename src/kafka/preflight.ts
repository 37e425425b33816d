import type { Endpoints } from '../config/endpoints.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { createKafkaClient, kafkaSecurityOf } from './client.ts';
import { partitionCountError } from './partition-counts.ts';

/** The spec's partition count, which every topic of the pipeline has. */
export interface ExpectedPartitions {
  partitions: number;
  specPath: string;
}

/**
 * Checks, before a process starts, that the brokers answer and the
 * pipeline's topics exist with the spec's partition count, so that a wrong
 * address, a pipeline that was never migrated or a topic grown since ends the
 * process with a sentence that says so rather than with a client's retry log
 * and stack trace (or records sent to partitions that are not there).
 */
export async function preflightKafka(endpoints: Endpoints, topics: readonly string[], expected: ExpectedPartitions, logger: Logger): Promise<void> {
  const brokers = endpoints.kafkaBrokers;
  const client = (retries: number) => createKafkaClient({ brokers, clientId: 'kelt-preflight', logger, retries, ...kafkaSecurityOf(endpoints) });
  // Reaching no seed broker at all, after a few quick tries, is a wrong address.
  const probe = client(2).admin();
  try {
    await probe.connect();
  } catch (error) {
    throw new ConfigError(`cannot reach Kafka at ${brokers.join(',')} (KELT_KAFKA_BROKERS): ${(error as Error).message}`);
  } finally {
    await probe.disconnect();
  }
  // A cluster that answers may still have a broker down, which it lists until
  // it fences it (seconds): the listing gets the client's usual patience.
  const admin = client(8).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new ConfigError(`topic(s) ${missing.join(', ')} do not exist: run 'kelt migrate --pipeline <file>' first`);
    }
    const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
    const counts = new Map(described.map((topic) => [topic.name, topic.partitions.length]));
    const error = partitionCountError(counts, expected.partitions, expected.specPath);
    if (error !== undefined) throw error;
  } finally {
    await admin.disconnect();
  }
}

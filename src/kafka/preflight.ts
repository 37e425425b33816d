import type { Endpoints } from '../config/env.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { createKafkaClient, kafkaSecurityOf } from './client.ts';

/**
 * Checks, before a stage starts, that the brokers answer and the pipeline's
 * topics exist, so that a wrong address or a pipeline that was never migrated
 * ends the process with a sentence that says so rather than with a client's
 * retry log and stack trace.
 */
export async function preflightKafka(endpoints: Endpoints, topics: readonly string[], logger: Logger): Promise<void> {
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
  } finally {
    await admin.disconnect();
  }
}

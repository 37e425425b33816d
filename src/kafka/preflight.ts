import type { Endpoints } from '../config/env.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { createKafkaClient } from './client.ts';

/**
 * Checks, before a stage starts, that the brokers answer and the pipeline's
 * topics exist, so that a wrong address or a pipeline that was never migrated
 * ends the process with a sentence that says so rather than with a client's
 * retry log and stack trace.
 */
export async function preflightKafka(endpoints: Endpoints, topics: readonly string[], logger: Logger): Promise<void> {
  const brokers = endpoints.kafkaBrokers;
  const admin = createKafkaClient({
    brokers,
    clientId: 'kelt-preflight',
    logger,
    retries: 2,
    tls: endpoints.kafkaTls,
    sasl: endpoints.kafkaSasl,
  }).admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new ConfigError(`cannot reach Kafka at ${brokers.join(',')} (KELT_KAFKA_BROKERS): ${(error as Error).message}`);
  }
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new ConfigError(`topic(s) ${missing.join(', ')} do not exist: run 'kelt migrate --pipeline <file>' first`);
    }
  } finally {
    await admin.disconnect();
  }
}

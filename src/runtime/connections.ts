import type { Kafka } from 'kafkajs';
import { endpointsFrom, readEnv, type Endpoints, type LogLevel } from '../config/env.ts';
import { createKafkaClient } from '../kafka/client.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createMySqlPool, type MySqlPool } from '../mysql/pool.ts';
import { SchemaRegistryClient } from '../registry/client.ts';

/** The clients a command needs, built from the validated environment. */
export interface Connections {
  logger: Logger;
  kafka: Kafka;
  /**
   * The client of the stages' transactional producers: its retries start at
   * 20 ms, as the Java client's do for CONCURRENT_TRANSACTIONS. A transaction
   * begun right after the previous one committed is refused with that error
   * until the broker has written the commit markers; kafkajs retries it after
   * its initial retry time (kafkajs issue #304), which at 100 ms made every
   * back-to-back partition transaction wait 30–70 ms on average here.
   */
  transactionalKafka: Kafka;
  registry: SchemaRegistryClient;
  /** A new MySQL pool (the caller ends it). */
  mysql(connectionLimit?: number): MySqlPool;
}

/** Clients for the endpoints in the environment (KELT_*), validated first. */
export function connect(component: string, bindings: Record<string, unknown> = {}): Connections {
  const env = readEnv();
  return connectTo(endpointsFrom(env), env.KELT_LOG_LEVEL, component, bindings);
}

export function connectTo(
  endpoints: Endpoints,
  logLevel: LogLevel,
  component: string,
  bindings: Record<string, unknown> = {},
): Connections {
  const logger = createLogger(logLevel, { component, ...bindings });
  const kafkaOptions = { brokers: endpoints.kafkaBrokers, clientId: `kelt-${component}`, logger, tls: endpoints.kafkaTls, sasl: endpoints.kafkaSasl };
  return {
    logger,
    kafka: createKafkaClient(kafkaOptions),
    // Two more doublings than the default keep about the same time budget (20 ms × 2^10 ≈ 100 ms × 2^8).
    transactionalKafka: createKafkaClient({ ...kafkaOptions, initialRetryMs: 20, retries: 10 }),
    registry: new SchemaRegistryClient(endpoints.schemaRegistryUrl, endpoints.registryAuth),
    mysql: (connectionLimit) => createMySqlPool(endpoints.mysqlUrl, connectionLimit, endpoints.mysqlTls),
  };
}

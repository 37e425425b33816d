import type { Kafka } from 'kafkajs';
import { endpointsFrom, readEnv, type Env } from '../config/env.ts';
import { createKafkaClient } from '../kafka/client.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createMySqlPool, type MySqlPool } from '../mysql/pool.ts';
import { SchemaRegistryClient } from '../registry/client.ts';

/** The clients a command needs, built from the validated environment. */
export interface Connections {
  env: Env;
  logger: Logger;
  kafka: Kafka;
  registry: SchemaRegistryClient;
  mysql(): MySqlPool;
}

export function connect(component: string, bindings: Record<string, unknown> = {}): Connections {
  const env = readEnv();
  const endpoints = endpointsFrom(env);
  const logger = createLogger(env.KELT_LOG_LEVEL, { component, ...bindings });
  return {
    env,
    logger,
    kafka: createKafkaClient({ brokers: endpoints.kafkaBrokers, clientId: `kelt-${component}`, logger }),
    registry: new SchemaRegistryClient(endpoints.schemaRegistryUrl),
    mysql: () => createMySqlPool(endpoints.mysqlUrl),
  };
}

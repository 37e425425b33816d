import { readEnv, type LogLevel } from '../config/env.ts';
import { endpointsFrom, secretsOf, type Endpoints } from '../config/endpoints.ts';
import { ConfigError } from '../errors.ts';
import { registerSecrets } from '../log/redact.ts';
import { createKafkaClient, kafkaSecurityOf, type KafkaCluster } from '../kafka/client.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createMySqlPool, type MySqlPool } from '../mysql/pool.ts';
import { SchemaRegistryClient } from '../registry/client.ts';

/** The clients a command needs, built from the validated environment. */
export interface Connections {
  logger: Logger;
  kafka: KafkaCluster;
  registry: SchemaRegistryClient;
  /** A new MySQL pool (the caller ends it); a stage's bounds each statement by `queryTimeoutMs`. */
  mysql(connectionLimit?: number, queryTimeoutMs?: number): MySqlPool;
}

/** Clients for the endpoints in the environment (KELT_*), validated first. */
export function connect(component: string, bindings: Record<string, unknown> = {}, needs: { mysql?: boolean } = {}): Connections {
  const env = readEnv(process.env, needs);
  return connectTo(endpointsFrom(env), env.KELT_LOG_LEVEL, component, bindings);
}

export function connectTo(endpoints: Endpoints, logLevel: LogLevel, component: string, bindings: Record<string, unknown> = {}): Connections {
  registerSecrets(secretsOf(endpoints));
  const logger = createLogger(logLevel, { component, ...bindings });
  return {
    logger,
    kafka: createKafkaClient({
      brokers: endpoints.kafkaBrokers,
      clientId: `kelt-${component}`,
      logger,
      ...kafkaSecurityOf(endpoints),
    }),
    registry: new SchemaRegistryClient(endpoints.schemaRegistryUrl, endpoints.registryAuth, endpoints.registryTls),
    mysql: (connectionLimit, queryTimeoutMs) => {
      if (endpoints.mysqlUrl === undefined) throw new ConfigError(`KELT_MYSQL_URL is not set: kelt ${component} writes to MySQL`);
      return createMySqlPool(endpoints.mysqlUrl, connectionLimit, endpoints.mysqlTls, queryTimeoutMs);
    },
  };
}

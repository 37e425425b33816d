// Before kafkajs itself: see the module.
import './kafkajs-fixes.ts';
import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Endpoints } from '../config/endpoints.ts';
import type { Logger } from '../log/logger.ts';
import { kafkaSaslOptions, kafkaTlsOptions } from './security.ts';

/**
 * The one place kelt builds its Kafka client. The stages see kafkajs only
 * through this adapter folder, so a KafkaJS-compatible client could replace it
 * without touching them.
 */
export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Attempts per request before the client gives up (default 8). */
  retries?: number;
  tls?: Endpoints['kafkaTls'];
  sasl?: Endpoints['kafkaSasl'];
  /** SASL without TLS allowed by name. */
  saslPlaintext?: boolean;
}

const levelNames: Record<KafkaLogLevel, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.NOTHING]: 'debug',
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * kafkajs warns on every idempotent producer whose retries are bounded. kelt
 * bounds them on purpose: a send that still fails fails its batch, which
 * aborts the batch's transaction (extract, load) and is retried whole, so
 * nothing is duplicated downstream; the non-transactional cases (`kelt
 * produce`, transform's dead letters) are at-least-once and documented so.
 */
const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      // A connection logs every error response (not leader, coordinator
      // loading…) before the client retries it; the producer, consumer and
      // admin report what was not recovered. Those responses are debug detail.
      // The producer logs each retriable send failure (not leader, connection
      // lost) before retrying it; a send that fails for good reaches kelt as an
      // error, which the stage logs with its retry.
      const retriedSend = namespace === 'Producer' && String(message).startsWith('Failed to send messages:');
      const name =
        (namespace === 'Connection' && level === KafkaLogLevel.ERROR) || message === BOUNDED_RETRIES_WARNING || retriedSend
          ? 'debug'
          : levelNames[level];
      logger[name]({ kafkajs: namespace, ...fields }, message);
    };
}

/**
 * kelt's handle on a Kafka cluster. Outside src/kafka it is only handed to
 * the adapter's functions (group consumers, transactions, producers, the
 * cluster admin, the topic reader), which are what open clients on it.
 */
export type KafkaCluster = Kafka;

/** A client's TLS and SASL settings, as the endpoints give them. */
export function kafkaSecurityOf(endpoints: Endpoints): Pick<KafkaClientOptions, 'tls' | 'sasl' | 'saslPlaintext'> {
  return { tls: endpoints.kafkaTls, sasl: endpoints.kafkaSasl, saslPlaintext: endpoints.kafkaSaslPlaintext === true };
}

export function createKafkaClient({ brokers, clientId, logger, retries = 8, tls, sasl, saslPlaintext = false }: KafkaClientOptions): KafkaCluster {
  return new Kafka({
    clientId,
    brokers,
    ...(tls === undefined ? {} : { ssl: kafkaTlsOptions(tls) }),
    ...(sasl === undefined ? {} : { sasl: kafkaSaslOptions(sasl, tls !== undefined, saslPlaintext) }),
    // kafkajs logs at INFO far more than an operator needs (every join, every
    // commit); warnings and errors reach the structured log.
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafka' })),
    retry: { initialRetryTime: 100, retries },
  });
}

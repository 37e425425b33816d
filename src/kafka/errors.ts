import { createRequire } from 'node:module';
import type kafkajs from 'kafkajs';
import { FatalError, KeltError, PermanentError, StaleBatchError, TransientError } from '../errors.ts';

// kafkajs's error classes, from its errors module alone (the same classes its
// root exports): the root loads its producer, which must load only after
// kelt's patches of it, and those patches classify errors with this module.
const { KafkaJSError, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } = createRequire(import.meta.url)('kafkajs/src/errors.js') as Pick<
  typeof kafkajs,
  'KafkaJSError' | 'KafkaJSProtocolError' | 'KafkaJSSASLAuthenticationError'
>;

/**
 * What a Kafka client failure means for the batch that met it, decided here
 * and nowhere else, from kafkajs's own error classes and protocol error types
 * (walking `cause`, since kafkajs wraps the protocol error in its retry
 * errors), never from message text.
 *
 * kafkajs's own `retriable` flag says whether the same request may succeed
 * if sent again; it decides kafkajs's retries and whether a crashed consumer
 * restarts (the runner's `crashed(error, restarting)`). It cannot decide a
 * batch's fate: a batch is retried with a new transaction, after a new
 * producer settled the partition, and that recovers from errors kafkajs marks
 * non-retriable (INVALID_TXN_STATE after a lost EndTxn answer,
 * OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID after a broker
 * failover, BROKER_NOT_AVAILABLE). So the kinds are chosen by type:
 *
 * - fatal: the cluster refused this client's credentials or an ACL, or the
 *   deployment asks for what the cluster does not allow (an unsupported
 *   version or compression, a transaction or session timeout outside the
 *   broker's bounds): retrying cannot help, and taking it for "fenced" or
 *   "transient" would drop batches silently or retry for ever;
 * - fenced: another producer owns this transactional id now (the partition moved);
 * - rebalance: the group moved on without this member's current generation;
 * - too_large: the broker refused a record for its size (retrying cannot help);
 * - transient: anything else the client reports (a broker away, a leader
 *   moving, a timeout): the batch is retried, since a broker can be away for
 *   longer than the client's own retries last.
 */
export type KafkaErrorKind = 'fatal' | 'fenced' | 'rebalance' | 'too_large' | 'transient';

const fatalTypes = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
]);
const misconfiguredTypes = new Set([
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'INVALID_REQUIRED_ACKS',
  'INVALID_TRANSACTION_TIMEOUT',
  'INVALID_SESSION_TIMEOUT',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_GROUP_ID',
  'INVALID_TOPIC_EXCEPTION',
  'SECURITY_DISABLED',
]);
const fencedTypes = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);
const rebalanceTypes = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);
const tooLargeTypes = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The error and the errors it wraps (kafkajs wraps the protocol error in its retry errors). */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let cause: unknown = error; cause instanceof Error && !chain.includes(cause); cause = cause.cause) chain.push(cause);
  return chain;
}

function protocolTypes(error: unknown): string[] {
  return causes(error).flatMap((cause) => (cause instanceof KafkaJSProtocolError ? [cause.type] : []));
}

/** Whether an error came from the Kafka client at all. */
export function isKafkaClientError(error: unknown): boolean {
  return error instanceof KafkaJSError;
}

export function kafkaErrorKind(error: unknown): KafkaErrorKind {
  const types = protocolTypes(error);
  if (types.some((type) => fatalTypes.has(type) || misconfiguredTypes.has(type))) return 'fatal';
  if (causes(error).some((cause) => cause instanceof KafkaJSSASLAuthenticationError)) return 'fatal';
  if (types.some((type) => fencedTypes.has(type))) return 'fenced';
  if (types.some((type) => rebalanceTypes.has(type))) return 'rebalance';
  if (types.some((type) => tooLargeTypes.has(type))) return 'too_large';
  return 'transient';
}

/** Whether the failure says this member has lost its place in the group. */
export function isRebalanceError(error: unknown): boolean {
  return isKafkaClientError(error) && kafkaErrorKind(error) === 'rebalance';
}

/**
 * Whether the transaction coordinator refused a request because the
 * transactional id's previous transaction is still completing.
 */
export function isConcurrentTransactionsError(error: unknown): boolean {
  return isKafkaClientError(error) && protocolTypes(error).includes('CONCURRENT_TRANSACTIONS');
}

/**
 * A Kafka client failure as kelt's error class; kelt's own errors pass
 * through unchanged. `what` says what was being done, for the message.
 */
export function classifyKafkaError(error: unknown, what: string): KeltError {
  if (error instanceof KeltError) return error;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (!isKafkaClientError(error)) return new TransientError(message, { cause: error });
  switch (kafkaErrorKind(error)) {
    case 'fatal':
      return new FatalError(message, { cause: error });
    case 'fenced':
    case 'rebalance':
      return new StaleBatchError(message, { cause: error });
    case 'too_large':
      return new PermanentError(message, { cause: error, reason: 'record_too_large' });
    case 'transient':
      return new TransientError(message, { cause: error });
  }
}

/**
 * Whether retrying can help, whatever the error: kelt's errors say so
 * themselves; Kafka client errors are retried at the batch level (a batch
 * re-runs idempotently) even after the client's own retries are exhausted,
 * since a broker can be away longer than those last. Anything else is a bug,
 * and retrying it would only hide it.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof KeltError) return error.retriable;
  return isKafkaClientError(error) && classifyKafkaError(error, 'a Kafka request').retriable;
}

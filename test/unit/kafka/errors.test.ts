import { describe, expect, it } from 'vitest';
import { FatalError, PermanentError, StaleBatchError, TransientError } from '../../../src/errors.ts';
import { classifyKafkaError, isRebalanceError, kafkaErrorKind } from '../../../src/kafka/errors.ts';

import { kafkaErrors } from '../../support/kafka-errors.ts';

const { protocol, retriesExceeded } = kafkaErrors;

describe('Kafka error classification', () => {
  it('reads the protocol type through the client’s wrapping errors', () => {
    expect(kafkaErrorKind(retriesExceeded(protocol('PRODUCER_FENCED')))).toBe('fenced');
    expect(kafkaErrorKind(protocol('REBALANCE_IN_PROGRESS'))).toBe('rebalance');
    expect(kafkaErrorKind(retriesExceeded(protocol('MESSAGE_TOO_LARGE')))).toBe('too_large');
    expect(kafkaErrorKind(protocol('NOT_LEADER_OR_FOLLOWER'))).toBe('transient');
  });

  it('maps each kind to kelt’s error class, with the dead-letter reason on permanent ones', () => {
    expect(classifyKafkaError(protocol('INVALID_PRODUCER_EPOCH'), 'x')).toBeInstanceOf(StaleBatchError);
    const tooLarge = classifyKafkaError(protocol('RECORD_LIST_TOO_LARGE'), 'x');
    expect(tooLarge).toBeInstanceOf(PermanentError);
    expect((tooLarge as PermanentError).reason).toBe('record_too_large');
    expect(classifyKafkaError(kafkaErrors.connection('closed'), 'x')).toBeInstanceOf(TransientError);
  });

  it('takes a refused credential or ACL for fatal, never for fenced (which drops the batch silently)', () => {
    expect(classifyKafkaError(retriesExceeded(protocol('TRANSACTIONAL_ID_AUTHORIZATION_FAILED')), 'x')).toBeInstanceOf(FatalError);
    expect(classifyKafkaError(protocol('TOPIC_AUTHORIZATION_FAILED'), 'x')).toBeInstanceOf(FatalError);
    expect(classifyKafkaError(protocol('GROUP_AUTHORIZATION_FAILED'), 'x').retriable).toBe(false);
    const sasl = kafkaErrors.sasl('SASL PLAIN authentication failed');
    expect(classifyKafkaError(retriesExceeded(sasl), 'x')).toBeInstanceOf(FatalError);
  });

  it('takes a deployment the cluster does not allow for fatal, yet retries what a new producer recovers from though kafkajs calls it non-retriable', () => {
    expect(classifyKafkaError(retriesExceeded(protocol('INVALID_TRANSACTION_TIMEOUT', false)), 'x')).toBeInstanceOf(FatalError);
    expect(classifyKafkaError(protocol('UNSUPPORTED_VERSION', false), 'x')).toBeInstanceOf(FatalError);
    for (const type of ['INVALID_TXN_STATE', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'BROKER_NOT_AVAILABLE']) {
      expect(classifyKafkaError(protocol(type, false), 'x'), type).toBeInstanceOf(TransientError);
    }
  });

  it('does not take a message that merely mentions a type for that type', () => {
    expect(kafkaErrorKind(kafkaErrors.plain('PRODUCER_FENCED'))).toBe('transient');
    expect(isRebalanceError(new Error('REBALANCE_IN_PROGRESS'))).toBe(false);
  });
});

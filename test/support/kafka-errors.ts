import kafkajs from 'kafkajs';

/**
 * kafkajs's own errors, as its client throws them, for unit tests whose
 * fakes fail the way a broker makes kafkajs fail: kelt classifies them by
 * their classes and protocol types.
 */
export const kafkaErrors = {
  protocol: (type: string, retriable = true) =>
    new kafkajs.KafkaJSProtocolError({ message: `protocol error ${type}`, type, code: 0, retriable } as never),
  retriesExceeded: (cause: Error) => new kafkajs.KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1_000 }),
  connection: (message: string) => new kafkajs.KafkaJSConnectionError(message),
  requestTimeout: (message: string) => new kafkajs.KafkaJSRequestTimeoutError(message),
  // Its published types say it takes no arguments; its constructor passes them to KafkaJSError's.
  sasl: (message: string) => new (kafkajs.KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error)(message),
  plain: (message: string) => new kafkajs.KafkaJSError(message),
};

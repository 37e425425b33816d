/**
 * kelt's error classes. Every error says whether retrying can help
 * (`retriable`): stages retry transient faults with backoff and dead-letter
 * permanent ones, and they branch on the class or the flag, never on message text.
 */
export abstract class KeltError extends Error {
  abstract readonly code: string;
  abstract readonly retriable: boolean;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or wrong. The message names the setting and what to change. */
export class ConfigError extends KeltError {
  readonly code = 'KELT_CONFIG';
  readonly retriable = false;

  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = []) {
    super(issues.length > 0 ? `${message}:\n  - ${issues.join('\n  - ')}` : message);
    this.issues = issues;
  }
}

/** A dependency (broker, registry, database) is unreachable or busy: retry later. */
export class TransientError extends KeltError {
  readonly code = 'KELT_TRANSIENT';
  readonly retriable = true;
}

/** Why a record was dead-lettered: a short, closed set (a metrics label and the `kelt.reason` header). */
export const deadLetterReasons = [
  'undecodable',
  'unknown_schema',
  'schema_violation',
  'extract_error',
  'transform_error',
  'transform_timeout',
  'transform_out_of_memory',
  'row_rejected',
  'record_too_large',
] as const;
export type DeadLetterReason = (typeof deadLetterReasons)[number];

/**
 * The input itself is bad: retrying gives the same answer, so the record is
 * dead-lettered. The reason travels on the error, set where the failure is
 * understood, so that nothing downstream parses a message to find it.
 */
export class PermanentError extends KeltError {
  readonly code = 'KELT_PERMANENT';
  readonly retriable = false;
  readonly reason: DeadLetterReason | undefined;

  constructor(message: string, options?: ErrorOptions & { reason?: DeadLetterReason }) {
    super(message, options);
    this.reason = options?.reason;
  }
}

/**
 * Most of the recent records would be dead-lettered (see DeadLetterBreaker):
 * the batch is refused before it commits and retried later, the records
 * waiting in Kafka, since the cause is more likely a setting than the data.
 */
export class DeadLetterFloodError extends KeltError {
  readonly code = 'KELT_DEAD_LETTER_FLOOD';
  readonly retriable = true;
}

/**
 * Retrying cannot help and the stage cannot go on: credentials refused, an
 * ACL or grant missing. The stage reports it and exits non-zero, so that
 * the orchestrator shows why; no record is dead-lettered for it.
 */
export class FatalError extends KeltError {
  readonly code = 'KELT_FATAL';
  readonly retriable = false;
}

/**
 * Another member owns the batch's partition now (a rebalance moved it, and the
 * new owner has fenced this one): the batch is abandoned, its writes undone,
 * and neither retried nor dead-lettered; the owner processes it.
 */
export class StaleBatchError extends KeltError {
  readonly code = 'KELT_STALE_BATCH';
  readonly retriable = false;
}

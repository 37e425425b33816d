import { FatalError, PermanentError, TransientError } from '../errors.ts';

/**
 * MySQL errors that say a row is wrong (retrying gives the same answer):
 * too long, out of range, bad value, NULL in a NOT NULL column, bad JSON,
 * a failed CHECK constraint.
 */
const rowRejections = new Set([
  'ER_DATA_TOO_LONG',
  'ER_WARN_DATA_OUT_OF_RANGE',
  // An expression's result out of its type's range: a DOUBLE sum past ±1.8e308.
  'ER_DATA_OUT_OF_RANGE',
  'KELT_ROW_REJECTED',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_BAD_NULL_ERROR',
  'ER_INVALID_JSON_TEXT',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_CONSTRAINT_FAILED',
  'ER_DUP_ENTRY',
  'ER_NO_DEFAULT_FOR_FIELD',
]);

/**
 * A row kelt refuses before MySQL sees it, because MySQL would read its
 * value as something else (a non-finite number becomes the bare word
 * Infinity, an unknown column): handled as MySQL's own row rejections are.
 */
export class RowRejectionError extends Error {
  readonly code = 'KELT_ROW_REJECTED';
}

/** MySQL refused this user: a password, or a grant on the database, a table or a column. */
const accessRefusals = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
]);

/**
 * Failures that say something about the server or the connection, not the
 * statement's rows: it is away, busy, read-only, full, out of connections,
 * deadlocked, or not migrated for the pipeline yet. Retried, never split.
 */
const serverStates = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'POOL_CLOSED',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'ER_QUERY_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_OUT_OF_RESOURCES',
  'ER_OUTOFMEMORY',
  'ER_DISK_FULL',
  'ER_RECORD_FILE_FULL',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  'ER_CANT_LOCK',
  'ER_NO_SUCH_TABLE',
  'ER_BAD_FIELD_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_UNKNOWN_ERROR',
  ...accessRefusals,
]);

/** Whether MySQL rejected the data (dead-letter it) rather than failed (retry). */
export function isRowRejection(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code !== undefined && rowRejections.has(code);
}

/**
 * Whether a batch MySQL refused may hold rows MySQL refuses: a known row
 * rejection, or a statement error that is not about the server's state (an
 * error code kelt does not know). Such a batch is written again row by row,
 * so that only the rows MySQL refuses are dead-lettered; anything else is
 * retried as it is.
 */
export function mayBeRowRejection(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return rowRejections.has(code) || (code.startsWith('ER_') && !serverStates.has(code));
}

/**
 * A MySQL failure as kelt's error class: rejections are permanent, a refused
 * user or grant fatal (retrying it for ever would look like health), and
 * everything else transient.
 */
export function classifyMySqlError(error: unknown, what: string): PermanentError | TransientError | FatalError {
  const code = (error as { code?: string }).code ?? 'unknown';
  const message = `${what}: ${code}: ${(error as Error).message}`;
  if (accessRefusals.has(code)) return new FatalError(message, { cause: error });
  return isRowRejection(error) ? new PermanentError(message, { cause: error }) : new TransientError(message, { cause: error });
}

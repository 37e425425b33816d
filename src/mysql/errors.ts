import { FatalError, PermanentError, TransientError } from '../errors.ts';

/**
 * MySQL errors that say a row is wrong (retrying gives the same answer):
 * too long, out of range, bad value, NULL in a NOT NULL column, bad JSON,
 * a failed CHECK constraint.
 */
const rowRejections = new Set([
  'ER_DATA_TOO_LONG',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_BAD_NULL_ERROR',
  'ER_INVALID_JSON_TEXT',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_CONSTRAINT_FAILED',
  'ER_DUP_ENTRY',
  'ER_NO_DEFAULT_FOR_FIELD',
]);

/** MySQL refused this user: a password, or a grant on the database, a table or a column. */
const accessRefusals = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
]);

/** Whether MySQL rejected the data (dead-letter it) rather than failed (retry). */
export function isRowRejection(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code !== undefined && rowRejections.has(code);
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

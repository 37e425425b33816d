import { describe, expect, it } from 'vitest';
import { FatalError, PermanentError, TransientError } from '../../../src/errors.ts';
import { classifyMySqlError, mayBeRowRejection } from '../../../src/mysql/errors.ts';

const mysqlError = (code: string) => Object.assign(new Error(code), { code });

describe('MySQL error classification', () => {
  it('takes a refused user or grant for fatal, a refused row for permanent, and the server’s state for transient', () => {
    for (const code of ['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR']) {
      expect(classifyMySqlError(mysqlError(code), 'x')).toBeInstanceOf(FatalError);
    }
    expect(classifyMySqlError(mysqlError('ER_DATA_TOO_LONG'), 'x')).toBeInstanceOf(PermanentError);
    for (const code of ['ECONNREFUSED', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']) {
      expect(classifyMySqlError(mysqlError(code), 'x')).toBeInstanceOf(TransientError);
    }
    expect(classifyMySqlError(mysqlError('ER_TABLEACCESS_DENIED_ERROR'), 'writing a batch').message).toBe(
      'writing a batch: ER_TABLEACCESS_DENIED_ERROR: ER_TABLEACCESS_DENIED_ERROR',
    );
  });
});

describe('which MySQL failures may be a row’s fault', () => {
  it('splits a batch on a row rejection or an error kelt does not know, never on the server’s state', () => {
    expect(mayBeRowRejection(mysqlError('ER_DATA_TOO_LONG'))).toBe(true);
    expect(mayBeRowRejection(mysqlError('ER_INVALID_JSON_TEXT_IN_PARAM'))).toBe(true);
    expect(mayBeRowRejection(mysqlError('ER_PARSE_ERROR'))).toBe(true);
    for (const code of [
      'ECONNREFUSED',
      'PROTOCOL_CONNECTION_LOST',
      'ER_LOCK_DEADLOCK',
      'ER_OPTION_PREVENTS_STATEMENT',
      'ER_NO_SUCH_TABLE',
      'ER_CON_COUNT_ERROR',
      'ER_ACCESS_DENIED_ERROR',
    ]) {
      expect(mayBeRowRejection(mysqlError(code)), code).toBe(false);
    }
    expect(mayBeRowRejection(new Error('no code'))).toBe(false);
  });
});

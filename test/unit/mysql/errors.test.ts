import { describe, expect, it } from 'vitest';
import { FatalError, PermanentError, TransientError } from '../../../src/errors.ts';
import { classifyMySqlError } from '../../../src/mysql/errors.ts';

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

import { describe, expect, it } from 'vitest';
import { deadLetterHeaders } from '../../../src/records/dead-letter-headers.ts';
import { registerSecrets } from '../../../src/log/redact.ts';
import { DeadLetterQueue } from '../../../src/stages/dead-letter.ts';

describe('dead letters', () => {
  it('never carry a secret or a URL’s password in their error header', () => {
    registerSecrets(['dlq-header-secret-value']);
    const queue = new DeadLetterQueue({ topic: 'p.dlq', stage: 'load' });
    const message = { key: Buffer.from('k'), value: Buffer.from('v'), offset: '7', timestamp: '0' };
    const [letter] = queue.messages([
      {
        topic: 'p.extracted',
        partition: 2,
        message,
        reason: 'row_rejected',
        error: 'refused by mysql://kelt:pw@db:3306/kelt with dlq-header-secret-value',
      },
    ]);
    expect(letter!.headers![deadLetterHeaders.error]).toBe('refused by mysql://***@db:3306/kelt with ***');
    expect(letter!.headers![deadLetterHeaders.originalOffset]).toBe('7');
  });
});

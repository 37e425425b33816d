import { describe, expect, it } from 'vitest';
import { keepingRefusals } from '../../../src/kafka/kafkajs-authorization-fix.ts';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';
import '../../../src/kafka/kafkajs-fixes.ts';

/** kafkajs's withBroker, modelled: each broker in turn, every error dropped, null when all failed. */
async function swallowing(this: unknown, callback: (broker: unknown) => Promise<unknown>): Promise<unknown> {
  for (const broker of [1, 2, 3]) {
    const outcome = await callback(broker).then(
      (value) => ({ answered: true, value }),
      (error: unknown) => ({ answered: false, value: error }),
    );
    if (outcome.answered) return outcome.value;
  }
  return null;
}

describe("kafkajs's withBroker, keeping refusals", () => {
  it('throws the refusal when every broker failed and one refused for want of an ACL', async () => {
    const refused = Object.assign(new Error('Not authorized to access group: Group authorization failed'), { type: 'GROUP_AUTHORIZATION_FAILED' });
    await expect(
      keepingRefusals(swallowing)(async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
  });

  it('leaves the rest as kafkajs has it: the first answer, or null when brokers only failed', async () => {
    let calls = 0;
    expect(
      await keepingRefusals(swallowing)(async (broker) => {
        calls += 1;
        if (broker === 1) throw Object.assign(new Error('not coordinator'), { type: 'NOT_COORDINATOR' });
        return `answer from ${String(broker)}`;
      }),
    ).toBe('answer from 2');
    expect(calls).toBe(2);
    expect(
      await keepingRefusals(swallowing)(async () => {
        throw new Error('ECONNREFUSED');
      }),
    ).toBeNull();
    expect(kafkajsPatched('cluster/brokerPool.js')).toBe(true);
  });
});

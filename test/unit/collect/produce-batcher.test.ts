import { describe, expect, it } from 'vitest';
import { CollectorBusyError, CollectorUnavailableError, ProduceBatcher, type ProduceBatcherOptions } from '../../../src/collect/produce-batcher.ts';
import type { RecordProducer } from '../../../src/kafka/record-producer.ts';
import type { OutgoingRecord } from '../../../src/kafka/records.ts';

/** A producer the test answers by hand: each send waits until the test settles it. */
class HeldProducer implements RecordProducer {
  readonly sends: Array<{ records: readonly OutgoingRecord[]; settle: (error?: Error) => void }> = [];
  closed = false;

  send(_topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    return new Promise((resolve, reject) => this.sends.push({ records, settle: (error) => (error === undefined ? resolve() : reject(error)) }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const records = (...keys: string[]): OutgoingRecord[] => keys.map((key) => ({ key, value: Buffer.from(key) }));
const tick = () => new Promise((resolve) => setImmediate(resolve));

function batcher(overrides: Partial<ProduceBatcherOptions> = {}) {
  const producers: HeldProducer[] = [];
  const now = { at: 0 };
  const instance = new ProduceBatcher({
    openProducer: async () => {
      const producer = new HeldProducer();
      producers.push(producer);
      return producer;
    },
    topic: 't.raw',
    partitions: 4,
    maxBufferedEvents: 10,
    maxBatchEvents: 4,
    ackTimeoutMs: 1_000,
    retryAfterMs: 2_000,
    now: () => now.at,
    ...overrides,
  });
  return { instance, producers, now };
}

describe('ProduceBatcher', () => {
  it('answers a request only once its send is acknowledged, and gathers the requests that wait into one send', async () => {
    const { instance, producers } = batcher();
    const answered: string[] = [];
    const first = instance.submit(records('a')).then(() => answered.push('first'));
    await tick();
    const second = instance.submit(records('b', 'c')).then(() => answered.push('second'));
    const third = instance.submit(records('d')).then(() => answered.push('third'));
    await tick();
    expect(instance.buffered).toBe(4);
    expect(answered).toEqual([]);
    producers[0]!.sends[0]!.settle();
    await first;
    await tick();
    expect(producers[0]!.sends.map((send) => send.records.map((record) => record.key))).toEqual([['a'], ['b', 'c', 'd']]);
    expect(answered).toEqual(['first']);
    producers[0]!.sends[1]!.settle();
    await Promise.all([second, third]);
    expect(instance.buffered).toBe(0);
  });

  it('never splits a request, and sends at most maxBatchEvents otherwise', async () => {
    const { instance, producers } = batcher();
    void instance.submit(records('a'));
    await tick();
    void instance.submit(records('b', 'c', 'd'));
    void instance.submit(records('e', 'f'));
    producers[0]!.sends[0]!.settle();
    await tick();
    await tick();
    expect(producers[0]!.sends[1]!.records.map((record) => record.key)).toEqual(['b', 'c', 'd']);
  });

  it('refuses as busy what would pass maxBufferedEvents, without sending it', async () => {
    const { instance, producers } = batcher();
    void instance.submit(records('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'));
    await expect(instance.submit(records('i', 'j', 'k'))).rejects.toBeInstanceOf(CollectorBusyError);
    await tick();
    expect(producers[0]!.sends.flatMap((send) => send.records)).toHaveLength(8);
  });

  it('answers unavailable when the send fails, retires that producer, refuses for retryAfterMs, then sends on a new producer', async () => {
    const { instance, producers, now } = batcher();
    const failed = instance.submit(records('a'));
    await tick();
    const queued = instance.submit(records('b'));
    producers[0]!.sends[0]!.settle(new Error('broker gone'));
    await expect(failed).rejects.toBeInstanceOf(CollectorUnavailableError);
    await expect(queued).rejects.toThrow(/broker gone/);
    await tick();
    expect(producers[0]!.closed).toBe(true);
    await expect(instance.submit(records('c'))).rejects.toBeInstanceOf(CollectorUnavailableError);
    expect(instance.unavailable()).toMatch(/broker gone/);
    now.at += 2_000;
    expect(instance.unavailable()).toBeUndefined();
    const later = instance.submit(records('d'));
    await tick();
    expect(producers).toHaveLength(2);
    producers[1]!.sends[0]!.settle();
    await later;
    expect(instance.buffered).toBe(0);
  });

  it('answers unavailable at the deadline and closes the producer only once its send settles', async () => {
    const { instance, producers } = batcher({ ackTimeoutMs: 20 });
    await expect(instance.submit(records('a'))).rejects.toThrow(/no acknowledgement within 20 ms/);
    expect(producers[0]!.closed).toBe(false);
    producers[0]!.sends[0]!.settle();
    await tick();
    await tick();
    expect(producers[0]!.closed).toBe(true);
  });

  it('answers unavailable when the producer cannot even connect', async () => {
    const { instance } = batcher({ openProducer: () => Promise.reject(new Error('no broker answers')) });
    await expect(instance.submit(records('a'))).rejects.toThrow(/no broker answers/);
  });

  it('on close, sends what was queued before answering, then refuses and closes the producer', async () => {
    const { instance, producers } = batcher();
    const queued = instance.submit(records('a'));
    await tick();
    const closing = instance.close();
    await expect(instance.submit(records('b'))).rejects.toThrow(/stopping/);
    producers[0]!.sends[0]!.settle();
    await queued;
    await closing;
    expect(producers[0]!.closed).toBe(true);
  });
});

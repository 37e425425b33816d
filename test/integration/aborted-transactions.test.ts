import { openTransactionalProducer, type Producer } from '../support/kafka.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPipeline, readTopic, type TestPipeline } from '../support/pipeline.ts';

/**
 * Transactions of two producers interleaved in one partition and both
 * aborted, the later-begun one first: the broker lists them by abort marker,
 * which is not the order they began in. A read_committed reader (kafkajs,
 * with kelt's fix of its filter) gets the committed records only. A
 * coordinator failing over aborts every open transaction it holds this way.
 */
describe('aborted transactions interleaved in a partition', () => {
  let t: TestPipeline;
  const producers: Producer[] = [];

  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 1 });
  });
  afterAll(async () => {
    await Promise.all(producers.map((producer) => producer.disconnect()));
    await t?.cleanup();
  });

  const transactionalProducer = async (): Promise<Producer> => {
    const producer = await openTransactionalProducer(t.connections.kafka);
    producers.push(producer);
    return producer;
  };

  it('reads no record of either aborted transaction, and every committed one', async () => {
    const topic = t.pipeline.topics.extracted;
    const send = (tx: Awaited<ReturnType<Producer['transaction']>>, values: string[]) =>
      tx.send({ topic, messages: values.map((value) => ({ key: value, value, partition: 0 })) });
    const [a, b] = [await transactionalProducer(), await transactionalProducer()];

    const committedBefore = await a.transaction();
    await send(committedBefore, ['a-committed-1']);
    await committedBefore.commit();
    const abortedA = await a.transaction();
    await send(abortedA, ['a-aborted-1', 'a-aborted-2']);
    const abortedB = await b.transaction();
    await send(abortedB, ['b-aborted-1']);
    await send(abortedA, ['a-aborted-3']);
    await abortedB.abort();
    await abortedA.abort();
    const committedAfter = await a.transaction();
    await send(committedAfter, ['a-committed-2', 'a-committed-3']);
    await committedAfter.commit();
    const committedB = await b.transaction();
    await send(committedB, ['b-committed-1']);
    await committedB.commit();

    const values = (await readTopic(t.connections.kafka, topic)).map((record) => record.value!.toString());
    expect(values).toEqual(['a-committed-1', 'a-committed-2', 'a-committed-3', 'b-committed-1']);
  });
});

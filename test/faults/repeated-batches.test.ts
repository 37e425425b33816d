import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import { faultRun } from '../support/fault-run.ts';
import { readTopic, type TestPipeline } from '../support/pipeline.ts';

const EVENTS = 20_000;

/**
 * Writes a second copy of `count` records of one partition of `topic`, as a
 * stage whose group's offset moved back would (KAFKA-20634 on Kafka < 4.3):
 * the same keys, values and headers, at new offsets of the same partition.
 */
async function writeAgain(t: TestPipeline, topic: string, partition: number, count: number): Promise<number> {
  const copies = (await readTopic(t.connections.kafka, topic)).filter((record) => record.partition === partition).slice(-count);
  const producer = t.connections.kafka.producer({ createPartitioner: javaCompatiblePartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: copies.map(({ key, value, headers }) => ({ key, value, headers, partition })) });
  } finally {
    await producer.disconnect();
  }
  return copies.length;
}

describe('fault: batches written twice upstream while the pipeline runs', () => {
  it('keeps the model table and every aggregate exact, counting each repeat once', async () => {
    let intoLoaded = 0;
    let intoExtracted = 0;
    const counts = await faultRun({
      scenario: 'batches written twice into the loaded and extracted topics',
      events: EVENTS,
      rate: 1_000,
      faults: async ({ t, at }) => {
        await at(6);
        intoLoaded = await writeAgain(t, t.pipeline.topics.loaded, 4, 150);
        await at(12);
        intoExtracted = await writeAgain(t, t.pipeline.topics.extracted, 9, 150);
      },
    });
    expect(intoLoaded).toBeGreaterThan(100);
    expect(intoExtracted).toBeGreaterThan(100);
    // The copies stay in the topics they were written to (load forwards the
    // extracted ones as well); staging and the model table upsert them, and
    // transform skips every one, so the aggregates count each event once.
    expect(counts).toMatchObject({
      produced: EVENTS,
      extracted: EVENTS + intoExtracted,
      loaded: EVENTS + intoExtracted + intoLoaded,
      staged: EVENTS,
      modeled: EVENTS,
      deadLettered: 0,
      duplicates: intoExtracted * 2 + intoLoaded,
      aggregateMismatches: 0,
    });
  });
});

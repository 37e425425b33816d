import { describe, expect, it } from 'vitest';
import { faultRun } from '../support/fault-run.ts';
import { readTopic, writeAgain, type TestPipeline } from '../support/pipeline.ts';

const EVENTS = 20_000;

/** Writes the last `count` records of one partition of `topic` into it again; says how many. */
async function writeLastAgain(t: TestPipeline, topic: string, partition: number, count: number): Promise<number> {
  const copies = (await readTopic(t.connections.kafka, topic)).filter((record) => record.partition === partition).slice(-count);
  await writeAgain(t.connections.kafka, topic, copies);
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
        intoLoaded = await writeLastAgain(t, t.pipeline.topics.loaded, 4, 150);
        await at(12);
        intoExtracted = await writeLastAgain(t, t.pipeline.topics.extracted, 9, 150);
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

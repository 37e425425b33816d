import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { countRows, createTestPipeline, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

/**
 * The raw topic deleted and created again under a running pipeline whose
 * transform has applied origins from it: the new topic's offsets start over,
 * under a new topic id, so its records are new origins, not repeats. Every
 * event of both topics lands once.
 */
describe('a raw topic deleted and created again under a running pipeline', () => {
  let t: TestPipeline;
  const processes: StageProcess[] = [];
  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 2 });
    for (const stage of ['extract', 'load', 'transform'] as const)
      processes.push(startTestStage(stage, t.specPath, t.endpoints, `${t.pipeline.name}-recreated-${stage}`));
    await Promise.all(processes.map((member) => member.joined()));
  });
  afterAll(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
  });

  it('lands the new topic’s records although their raw offsets are below the applied ones', async () => {
    const generator = t.pipeline.source.generatorPath!;
    await produceEvents(t.pipeline, generatedEvents(generator, 600), t.connections);
    await waitFor('600 modeled rows', async () => (await countRows(t.db, 'fct_pageviews')) === 600);

    const admin = await openClusterAdmin(t.connections.kafka);
    const raw = t.pipeline.topics.raw;
    const before = (await admin.topicIds([raw])).get(raw);
    try {
      await admin.deleteTopics([raw]);
      await waitFor('the raw topic gone', async () => !(await admin.topicNames()).includes(raw));
      await admin.createTopics([raw], t.pipeline.partitions);
    } finally {
      await admin.close();
    }
    await produceEvents(t.pipeline, generatedEvents(generator, 300, 600), t.connections);
    await waitFor('900 modeled rows', async () => (await countRows(t.db, 'fct_pageviews')) === 900, 90_000);

    const [origins] = await t.db.pool.query('SELECT DISTINCT origin_topic FROM kelt_applied_origins');
    const topics = (origins as Array<{ origin_topic: string }>).map((row) => row.origin_topic);
    expect(topics).toHaveLength(2);
    expect(topics).toContain(before);
    expect({ staged: await countRows(t.db, 'stg_pageviews'), modeled: await countRows(t.db, 'fct_pageviews') }).toEqual({
      staged: 900,
      modeled: 900,
    });
    for (const member of processes) expect(member.running, member.logTail()).toBe(true);
  });
});

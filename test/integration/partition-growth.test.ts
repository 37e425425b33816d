import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { migrate } from '../../src/migrate/migrate.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { loadPipeline, type PipelineSpecInput } from '../../src/pipeline/spec.ts';
import { countRows, createTestPipeline, readTopic, waitCaughtUp, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

/**
 * A raw topic grown by hand under a running pipeline (4 → 6 partitions):
 * every stage says which topic differs and stops (exit 2) instead of leaving
 * the new partitions unread; `kelt migrate` with the spec's new count grows
 * the other three topics to match, and the stages started on that spec land
 * every event, old and new, exactly once.
 */
const stages = ['extract', 'load', 'transform'] as const;

describe('partition counts that change under a running pipeline', () => {
  let t: TestPipeline;
  const processes: StageProcess[] = [];
  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 4 });
  });
  afterAll(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
  });

  const startStages = (specPath: string, round: number) => {
    const started = stages.map((stage) => startTestStage(stage, specPath, t.endpoints, `${t.pipeline.name}-growth-${stage}-${round}`));
    processes.push(...started);
    return started;
  };

  it('stops every stage with the reason when the raw topic grows, and runs on once migrate has grown the rest', async () => {
    const first = startStages(t.specPath, 1);
    await Promise.all(first.map((member) => member.joined()));
    await produceEvents(t.pipeline, generatedEvents(t.pipeline.source.generatorPath!, 1_000), t.connections);
    await waitFor('1,000 modeled rows', async () => (await countRows(t.db, 'fct_pageviews')) === 1_000);

    const admin = await openClusterAdmin(t.connections.kafka);
    try {
      await admin.growTopics([t.pipeline.topics.raw], 6);
    } finally {
      await admin.close();
    }
    const exits = await Promise.all(first.map((member) => member.exit()));
    expect(exits.map((exit) => exit.code)).toEqual([2, 2, 2]);
    for (const member of first) expect(member.logTail(4_000)).toContain(`${t.pipeline.topics.raw} has 6 partitions`);

    const grownSpec = t.specPath.replace(/\.yaml$/, '-6.yaml');
    const spec = parseYaml(readFileSync(t.specPath, 'utf8')) as PipelineSpecInput;
    writeFileSync(grownSpec, stringifyYaml({ ...spec, partitions: 6 }));
    const grown = loadPipeline(grownSpec);
    const pool = t.connections.mysql();
    try {
      const report = await migrate(grown, { ...t.connections, mysql: pool });
      expect(report.topicsGrown.sort()).toEqual(
        [t.pipeline.topics.extracted, t.pipeline.topics.loaded, t.pipeline.topics.dlq].map((topic) => `${topic}: 4 → 6`).sort(),
      );
    } finally {
      await pool.end();
    }

    const second = startStages(grownSpec, 2);
    await Promise.all(second.map((member) => member.joined()));
    await produceEvents(grown, generatedEvents(grown.source.generatorPath!, 1_000, 1_000), t.connections);
    await waitCaughtUp(t);
    await waitFor('2,000 modeled rows', async () => (await countRows(t.db, 'fct_pageviews')) === 2_000);
    const raw = await readTopic(t.connections.kafka, t.pipeline.topics.raw);
    expect({
      rawPartitions: new Set(raw.map((record) => record.partition)).size,
      extracted: (await readTopic(t.connections.kafka, t.pipeline.topics.extracted)).length,
      staged: await countRows(t.db, 'stg_pageviews'),
      modeled: await countRows(t.db, 'fct_pageviews'),
      deadLettered: (await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).length,
    }).toEqual({ rawPartitions: 6, extracted: 2_000, staged: 2_000, modeled: 2_000, deadLettered: 0 });
    for (const member of second) expect(member.running, member.logTail()).toBe(true);
  });
});

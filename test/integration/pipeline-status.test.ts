import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { formatStatus, pipelineStatus } from '../../src/status/pipeline-status.ts';
import { createTestPipeline, waitFor, type TestPipeline } from '../support/pipeline.ts';

const EVENTS = 3_000;

describe('kelt status', () => {
  let t: TestPipeline;
  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 4 });
  });
  afterAll(async () => t?.cleanup());

  it("shows each stage group's members, their partitions, and the lag of a stage that has not run yet", async () => {
    await t.start('extract');
    await t.start('extract');
    await produceEvents(t.pipeline, generatedEvents(t.pipeline.source.generatorPath!, EVENTS), t.connections);
    const admin = await openClusterAdmin(t.connections.kafka);
    try {
      // Before load runs, its input waits: all of it is lag (the records,
      // and the commit markers of extract's transactions between them).
      await waitFor('extract to finish', async () => {
        const [extract, load] = await pipelineStatus(admin, t.pipeline, 100);
        return extract!.lag === 0 && load!.lag >= EVENTS;
      });
      const [extract, load, transform] = await pipelineStatus(admin, t.pipeline, 500);
      expect(extract!.members).toHaveLength(2);
      expect(extract!.members.flatMap((m) => m.partitions).sort()).toEqual([0, 1, 2, 3]);
      expect(extract!.state).toBe('Stable');
      expect(load!.members).toHaveLength(0);
      expect(load!.partitions.map((p) => p.lag).reduce((a, b) => a + b)).toBe(load!.lag);
      expect(load!.partitions.every((p) => p.committed === -1)).toBe(true);
      expect(transform!.lag).toBe(0);
      const text = formatStatus(t.pipeline, [extract!, load!, transform!]);
      expect(text).toContain(`extract  group ${extract!.groupId} (Stable), 2 member(s), lag 0`);
      expect(text).toContain(`load  group ${load!.groupId}`);
      expect(text).toContain(`lag ${load!.lag.toLocaleString('en')}`);
    } finally {
      await admin.close();
    }
  });
});

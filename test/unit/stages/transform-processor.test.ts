import { afterAll, describe, expect, it } from 'vitest';
import { PartitionTransactions } from '../../../src/kafka/partition-transactions.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { AppliedOriginStore } from '../../../src/mysql/applied-origins.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import { loadPipeline } from '../../../src/pipeline/spec.ts';
import { modelTables } from '../../../src/mysql/pipeline-tables.ts';
import { DeadLetterQueue } from '../../../src/stages/dead-letter.ts';
import { originHeadersOf } from '../../../src/records/record-origin.ts';
import { AggregateViews } from '../../../src/stages/transform/aggregate-views.ts';
import { TransformProcessor, transformWorkerFile } from '../../../src/stages/transform/transform-stage.ts';
import type { TransformOutcome, TransformTask } from '../../../src/threads/transform-task.ts';
import { WorkerPool } from '../../../src/threads/worker-pool.ts';
import { extractedPageview } from '../../support/example-records.ts';
import { FakeCluster } from '../../support/fake-cluster.ts';
import { fakePool, MemoryLetterLog, MemoryPositions } from '../../support/fake-mysql.ts';
import { FakeRegistry } from '../../support/fake-registry.ts';

const pipeline = loadPipeline(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url).pathname);
const topic = pipeline.topics.loaded;
const groupId = 'kelt.pageviews.transform';
const pool = new WorkerPool<TransformTask, TransformOutcome[]>({
  file: transformWorkerFile,
  threads: 1,
  maxQueue: 16,
  memoryMb: pipeline.pool.memoryMb,
});
afterAll(() => pool.close());

/** The example pipeline's transform processor over the real worker pool and its module, a fake cluster, registry and MySQL. */
async function transformWith() {
  const registry = new FakeRegistry();
  const cluster = new FakeCluster();
  const { pool: mysql, committed, committedValues } = fakePool();
  const tables = modelTables(pipeline);
  const aggregates = new AggregateViews({ aggregates: pipeline.transform.aggregates, modelTables: tables, groupId, partitions: pipeline.partitions });
  // The fake MySQL has no information_schema: the tables' definitions are the real stack's to check (test/integration/aggregates.test.ts).
  aggregates.checkDefinitions = async () => undefined;
  const processor = new TransformProcessor({
    pipeline,
    registry,
    mysql,
    tables,
    pool,
    transactions: new PartitionTransactions(cluster, groupId, createLogger('silent')),
    positions: new MemoryPositions(),
    deadLetterLog: new MemoryLetterLog(),
    aggregates,
    origins: new AppliedOriginStore(mysql, groupId, topic),
    logger: createLogger('silent'),
  });
  const id = await registry.registerAvro(`${topic}-value`, extractedSchema(pipeline.source.schema));
  await processor.onAssignment([{ topic, partition: 2 }]);
  await processor.settle(topic, 2, '0');
  /** Records of the loaded topic, each stamped with the raw offset it came from. */
  const batchOf = async (rawOffsets: number[], from: number) => ({
    topic,
    partition: 2,
    messages: await Promise.all(
      rawOffsets.map(async (n, i) => ({
        key: Buffer.from(`u${n}`),
        value: await registry.encodeAvro(id, extractedPageview(pipeline, n)),
        offset: String(from + i),
        timestamp: '0',
        headers: originHeadersOf(7, String(n), undefined),
      })),
    ),
    nextOffset: String(from + rawOffsets.length),
  });
  const rowsOf = (table: string) =>
    committed.flatMap((sql, i) => (sql.includes(`\`${table}\``) && sql.startsWith('INSERT') ? (committedValues[i] as unknown[][][])[0]! : []));
  const abilities = { heartbeat: async () => undefined, deadLetters: new DeadLetterQueue({ topic: pipeline.topics.dlq, stage: 'transform' }) };
  return { cluster, processor, committed, rowsOf, batchOf, abilities };
}

describe('TransformProcessor', () => {
  it('runs the transform module in the pool and writes each record’s model row and its aggregates’ change in one MySQL transaction, then commits the offset', async () => {
    const { cluster, processor, rowsOf, batchOf, abilities } = await transformWith();
    const report = await processor.processBatch(await batchOf([1, 2, 3], 0), abilities);
    expect(report).toMatchObject({ produced: 0, written: 3, deadLettered: [], repeated: 0 });
    const facts = rowsOf('fct_pageviews');
    expect(facts.map((row) => row[0])).toEqual(['e1', 'e2', 'e3']);
    expect(facts[0]).toContain('news');
    expect(rowsOf('agg_pageviews_hourly').length).toBeGreaterThan(0);
    expect(await cluster.committedOffset(groupId, topic, 2)).toBe(3n);
  });

  it('skips a record written twice upstream (the same raw origin at a later offset), so an old copy never writes over a newer row', async () => {
    const { processor, rowsOf, batchOf, abilities } = await transformWith();
    await processor.processBatch(await batchOf([1, 2], 0), abilities);
    const report = await processor.processBatch(await batchOf([2, 3], 2), abilities);
    expect(report).toMatchObject({ written: 1, repeated: 1 });
    expect(rowsOf('fct_pageviews').map((row) => row[0])).toEqual(['e1', 'e2', 'e3']);
  });
});

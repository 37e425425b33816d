import { describe, expect, it } from 'vitest';
import { PartitionTransactions } from '../../../src/kafka/partition-transactions.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import { loadPipeline } from '../../../src/pipeline/spec.ts';
import { stagingTable } from '../../../src/mysql/pipeline-tables.ts';
import { DeadLetterQueue } from '../../../src/stages/dead-letter.ts';
import { LoadProcessor } from '../../../src/stages/load/load-stage.ts';
import { extractedPageview } from '../../support/example-records.ts';
import { FakeCluster } from '../../support/fake-cluster.ts';
import { fakePool, MemoryLetterLog, MemoryPositions } from '../../support/fake-mysql.ts';
import { FakeRegistry } from '../../support/fake-registry.ts';

const pipeline = loadPipeline(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url).pathname);
const topic = pipeline.topics.extracted;

const extracted = (n: number, userAgent?: string) => extractedPageview(pipeline, n, userAgent === undefined ? {} : { userAgent });

async function loadWith() {
  const registry = new FakeRegistry();
  const cluster = new FakeCluster();
  const { pool, committed, committedValues } = fakePool();
  const positions = new MemoryPositions();
  const deadLetterLog = new MemoryLetterLog();
  const processor = new LoadProcessor({
    pipeline,
    registry,
    mysql: pool,
    table: stagingTable(pipeline),
    transactions: new PartitionTransactions(cluster, 'kelt.pageviews.load', createLogger('silent')),
    positions,
    deadLetterLog,
    recordLimitOf: async () => 1_000_000,
  });
  const id = await registry.registerAvro(`${topic}-value`, extractedSchema(pipeline.source.schema));
  await processor.onAssignment([{ topic, partition: 5 }]);
  await processor.settle(topic, 5, '0');
  const batchOf = async (records: Array<Record<string, unknown>>, from: number) => ({
    topic,
    partition: 5,
    messages: await Promise.all(
      records.map(async (record, i) => ({
        key: Buffer.from(String(record.userId)),
        value: await registry.encodeAvro(id, record),
        offset: String(from + i),
        timestamp: '0',
      })),
    ),
    nextOffset: String(from + records.length),
  });
  const abilities = { heartbeat: async () => undefined, deadLetters: new DeadLetterQueue({ topic: pipeline.topics.dlq, stage: 'load' }) };
  /** The event ids of the staging rows committed. */
  const stagedIds = () =>
    committed.flatMap((sql, i) => (sql.includes('`stg_pageviews`') ? (committedValues[i] as unknown[][][])[0]!.map((row) => row[0]) : []));
  return { cluster, processor, committed, stagedIds, positions, deadLetterLog, batchOf, abilities };
}

describe('LoadProcessor', () => {
  it('stages a batch in one MySQL transaction with its position, then forwards it byte for byte with the offset', async () => {
    const { cluster, processor, committed, stagedIds, positions, batchOf, abilities } = await loadWith();
    const batch = await batchOf([extracted(1), extracted(2)], 0);
    const report = await processor.processBatch(batch, abilities);

    expect(report).toMatchObject({ produced: 2, written: 2, deadLettered: [] });
    expect(stagedIds()).toEqual(['e1', 'e2']);
    expect(committed.at(-1)).toBe('position 5 to 2');
    expect(positions.stored.get(5)).toBe(2n);
    expect(cluster.topics.get(pipeline.topics.loaded)!.map((record) => record.value)).toEqual(batch.messages.map((message) => message.value));
    expect(await cluster.committedOffset('kelt.pageviews.load', topic, 5)).toBe(2n);
  });

  it('rejects a row its column cannot hold as the record’s dead letter, logged with the batch, and stages the rest', async () => {
    const { cluster, processor, stagedIds, deadLetterLog, batchOf, abilities } = await loadWith();
    const report = await processor.processBatch(await batchOf([extracted(1), extracted(2, 'x'.repeat(2_000)), extracted(3)], 0), abilities);
    expect(stagedIds()).toEqual(['e1', 'e3']);
    expect(report).toMatchObject({ produced: 2, written: 2, deadLettered: ['row_rejected'] });
    expect([...deadLetterLog.letters.keys()]).toEqual(['1']);
    expect(cluster.topics.get(pipeline.topics.dlq)).toHaveLength(1);
  });

  it('forwards without writing again the records below the MySQL position (a member stopped between its two commits)', async () => {
    const { cluster, processor, stagedIds, positions, batchOf, abilities } = await loadWith();
    positions.advanced(5, '2');
    const report = await processor.processBatch(await batchOf([extracted(1), extracted(2), extracted(3)], 0), abilities);
    expect(report).toMatchObject({ produced: 3, written: 3 });
    expect(stagedIds()).toEqual(['e3']);
    expect(cluster.topics.get(pipeline.topics.loaded)).toHaveLength(3);
    expect(positions.stored.get(5)).toBe(3n);
  });
});

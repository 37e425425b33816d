import { describe, expect, it, afterAll } from 'vitest';
import { avroType } from '../../../src/avro/logical-types.ts';
import { PartitionTransactions } from '../../../src/kafka/partition-transactions.ts';
import { headerText } from '../../../src/kafka/records.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import { loadPipeline } from '../../../src/pipeline/spec.ts';
import { DeadLetterQueue } from '../../../src/stages/dead-letter.ts';
import { ExtractProcessor, extractWorkerFile } from '../../../src/stages/extract/extract-stage.ts';
import type { ExtractResult, ExtractTask } from '../../../src/threads/extract-task.ts';
import { originHeaders } from '../../../src/records/record-origin.ts';
import { WorkerPool } from '../../../src/threads/worker-pool.ts';
import { FakeCluster } from '../../support/fake-cluster.ts';
import { FakeRegistry } from '../../support/fake-registry.ts';

const pipeline = loadPipeline(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url).pathname);
const pool = new WorkerPool<ExtractTask, ExtractResult>({ file: extractWorkerFile, threads: 1, maxQueue: 16 });
afterAll(() => pool.close());

const event = (n: number) => ({
  eventId: `e${n}`,
  userId: `u${n % 3}`,
  url: `https://shop.example.com/p/${n}`,
  referrer: null,
  userAgent: 'Mozilla/5.0',
  ip: '203.0.113.9',
  ts: 1_767_225_600_000 + n,
});

/** The extract processor of the example pipeline over the real worker pool, a fake cluster and a fake registry. */
async function extractWith(recordLimit = 1_000_000, spec = pipeline, workers: WorkerPool<ExtractTask, ExtractResult> = pool) {
  const registry = new FakeRegistry();
  const cluster = new FakeCluster();
  const transactions = new PartitionTransactions(cluster, 'kelt.pageviews.extract', createLogger('silent'));
  const processor = new ExtractProcessor({
    pipeline: spec,
    registry,
    pool: workers,
    transactions,
    recordLimitOf: async () => recordLimit,
    topicIdOf: async () => '00112233445566778899aabbccddeeff',
  });
  const rawId = await registry.registerAvro(`${pipeline.topics.raw}-value`, pipeline.source.schema);
  await processor.onAssignment([{ topic: pipeline.topics.raw, partition: 3 }], () => undefined);
  await processor.settle(pipeline.topics.raw, 3, '0');
  const batchOf = (values: Array<Buffer | null>, from = 0) => ({
    topic: pipeline.topics.raw,
    partition: 3,
    messages: values.map((value, i) => ({ key: null, value, offset: String(from + i), timestamp: '1767225600000' })),
    nextOffset: String(from + values.length),
  });
  const abilities = { heartbeat: async () => undefined, deadLetters: new DeadLetterQueue({ topic: pipeline.topics.dlq, stage: 'extract' }) };
  return { registry, cluster, processor, rawId, batchOf, abilities };
}

describe('ExtractProcessor', () => {
  it('re-keys valid records into the extracted topic, dead-letters the rest in place, and commits the offset in the same transaction', async () => {
    const { registry, cluster, processor, rawId, batchOf, abilities } = await extractWith();
    const values = [await registry.encodeAvro(rawId, event(1)), Buffer.from('not avro at all'), await registry.encodeAvro(rawId, event(2))];
    const report = await processor.processBatch(batchOf(values), abilities);

    expect(report).toMatchObject({ produced: 2, written: 0, deadLettered: ['undecodable'] });
    const extracted = cluster.topics.get(pipeline.topics.extracted)!;
    expect(extracted.map((record) => String(record.key))).toEqual(['u1', 'u2']);
    expect(extracted.map((record) => headerText(record.headers, originHeaders.offset))).toEqual(['0', '2']);
    const reader = avroType(extractedSchema(pipeline.source.schema));
    const first = (await registry.decodeAvroAs(extracted[0]!.value as Buffer, reader)) as Record<string, unknown>;
    expect(first).toMatchObject({ eventId: 'e1', keltSourceTopic: pipeline.topics.raw, keltSourcePartition: 3 });
    const letters = cluster.topics.get(pipeline.topics.dlq)!;
    expect(letters.map((letter) => [letter.partition, headerText(letter.headers, 'kelt.original.offset')])).toEqual([[3, '1']]);
    expect(await cluster.committedOffset('kelt.pageviews.extract', pipeline.topics.raw, 3)).toBe(3n);
  });

  it('dead-letters a record the extracted topic would refuse as too large, and sends the others', async () => {
    const { registry, cluster, processor, rawId, batchOf, abilities } = await extractWith(400);
    const huge = { ...event(2), url: `https://shop.example.com/${'x'.repeat(1_000)}` };
    const report = await processor.processBatch(
      batchOf([await registry.encodeAvro(rawId, event(1)), await registry.encodeAvro(rawId, huge)]),
      abilities,
    );
    expect(report.deadLettered).toEqual(['record_too_large']);
    expect(cluster.topics.get(pipeline.topics.extracted)).toHaveLength(1);
  });

  it('dead-letters a tombstone without a key (it names no row and no partition) instead of retrying it for ever', async () => {
    // Keyed by the staging table's primary key: tombstones delete rows.
    const keyedByRow = {
      ...pipeline,
      source: { ...pipeline.source, keyField: 'eventId' },
      staging: { ...pipeline.staging, deletes: { ...pipeline.staging.deletes, tombstones: true } },
    };
    const { registry, cluster, processor, rawId, batchOf, abilities } = await extractWith(1_000_000, keyedByRow);
    const report = await processor.processBatch(
      batchOf([await registry.encodeAvro(rawId, event(1)), null, await registry.encodeAvro(rawId, event(2))]),
      abilities,
    );
    expect(report).toMatchObject({ produced: 2, deadLettered: ['undecodable'] });
    expect(cluster.topics.get(pipeline.topics.extracted)!.map((record) => String(record.key))).toEqual(['e1', 'e2']);
    expect(headerText(cluster.topics.get(pipeline.topics.dlq)![0]!.headers, 'kelt.error')).toMatch(/tombstone without a key/);
  });

  it('dead-letters alone a record that runs its worker out of memory, and extracts the rest of its chunk', async () => {
    // The real pool, except that a task holding raw offset 1 dies as a worker past its heap limit does.
    const outOfMemory = Object.assign(new Error('Worker terminated due to reaching memory limit: JS heap out of memory'), {
      code: 'ERR_WORKER_OUT_OF_MEMORY',
    });
    const dying = {
      run: (task: ExtractTask, transfer?: ArrayBuffer[]) => (task.offsets.includes('1') ? Promise.reject(outOfMemory) : pool.run(task, transfer)),
    } as unknown as WorkerPool<ExtractTask, ExtractResult>;
    const { registry, cluster, processor, rawId, batchOf, abilities } = await extractWith(1_000_000, pipeline, dying);
    const values = await Promise.all([0, 1, 2].map((n) => registry.encodeAvro(rawId, event(n))));
    const report = await processor.processBatch(batchOf(values), abilities);
    expect(report).toMatchObject({ produced: 2, deadLettered: ['extract_error'] });
    expect(cluster.topics.get(pipeline.topics.extracted)!.map((record) => headerText(record.headers, originHeaders.offset))).toEqual(['0', '2']);
    expect(headerText(cluster.topics.get(pipeline.topics.dlq)![0]!.headers, 'kelt.error')).toMatch(/out of memory \(512 MB\)/);
  });
});

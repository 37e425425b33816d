import type { ClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { modelTables, stagingTable } from '../../src/mysql/pipeline-tables.ts';
import type { Row, TransformFunction } from '../../src/transform/contract.ts';
import type { BenchFixture } from './fixture.ts';
import { inputTopicOf } from '../../src/pipeline/topology.ts';

export interface NaiveResult {
  stage: 'extract' | 'load' | 'transform';
  records: number;
  seconds: number;
  recordsPerSecond: number;
}

/**
 * The way the simple tutorials do it, on the same topics and tables: one
 * message at a time (`eachMessage`), an awaited `send` per record, one
 * autocommitted INSERT (an upsert, as the generator repeats some ids) per row, the transform on the main thread, kafkajs's
 * default offset commits. It runs until it has handled `records` records.
 */
export async function runNaive(fixture: BenchFixture, stage: NaiveResult['stage'], records: number): Promise<NaiveResult> {
  const { kafka, registry } = fixture.connections;
  const pipeline = fixture.pipeline;
  const mysql = fixture.connections.mysql(1);
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `${fixture.id}-naive-${stage}-${Date.now()}` });
  await consumer.connect();
  const topic = inputTopicOf(pipeline, stage);
  await consumer.subscribe({ topic, fromBeginning: true });

  const staging = stagingTable(pipeline);
  const [model] = modelTables(pipeline);
  const transform = ((await import(pipeline.transform.modulePath)) as { default: TransformFunction }).default;
  const naiveId = await registry.registerAvro(`${fixture.id}.naive-value`, pipeline.source.schema);

  let handled = 0;
  let started = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (handled >= records) return;
        if (handled === 0) started = performance.now();
        const event = (await registry.decodeAvro(message.value!)) as Record<string, unknown>;
        if (stage === 'extract') {
          await producer.send({
            topic: `${fixture.id}.naive`,
            messages: [{ key: String(event[pipeline.source.keyField]), value: await registry.encodeAvro(naiveId, event) }],
          });
        } else if (stage === 'load') {
          await staging.upsert(mysql, [staging.rowOf(event)], 1);
        } else {
          const output = await transform(event);
          const rows = ([] as Row[]).concat(output[model!.name] ?? []);
          for (const row of rows) await model!.upsert(mysql, [model!.rowOf(row)], 1);
        }
        handled++;
        if (handled === records) resolve(performance.now());
      },
    });
  });
  const ended = await done;
  await consumer.disconnect();
  await producer.disconnect();
  await mysql.end();
  const seconds = (ended - started) / 1000;
  return { stage, records, seconds, recordsPerSecond: records / seconds };
}

/** Creates the naive extract's output topic (the real extract's is kept for the real stages). */
export async function createNaiveTopic(admin: ClusterAdmin, fixture: BenchFixture): Promise<void> {
  await admin.createTopics([`${fixture.id}.naive`], fixture.pipeline.partitions);
}

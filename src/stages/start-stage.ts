import { kafkaTransactionalClient, PartitionTransactions } from '../kafka/partition-transactions.ts';
import { createIdempotentProducer, producerSink } from '../kafka/client.ts';
import { kafkaGroupConsumer } from '../kafka/group-consumer.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { modelTables, stagingTable } from '../pipeline/tables.ts';
import type { Connections } from '../runtime/connections.ts';
import { WorkerPool } from '../workers/worker-pool.ts';
import { ExtractProcessor, extractWorkerFile } from './extract/extract-stage.ts';
import type { ExtractResult, ExtractTask } from './extract/extract-task.ts';
import { LoadProcessor } from './load/load-stage.ts';
import { groupIdOf, StageRunner, type BatchProcessor, type StageName } from './stage-runner.ts';
import { TransformProcessor, transformWorkerFile } from './transform/transform-stage.ts';
import type { TransformOutcome, TransformTask } from './transform/transform-task.ts';

export interface RunningStage {
  runner: StageRunner;
  /** The stage's worker pool (extract and transform). */
  pool?: WorkerPool<unknown, unknown>;
  stop(): Promise<void>;
}

/** Builds a stage's processor and runs it as a member of the stage's consumer group. */
export async function startStage(
  stage: StageName,
  pipeline: Pipeline,
  connections: Connections,
  /** Called before the member joins its group, so that observers see the first join too. */
  beforeStart?: (runner: StageRunner, pool: WorkerPool<unknown, unknown> | undefined) => void,
): Promise<RunningStage> {
  const { kafka, registry, logger } = connections;
  // Transform's dead letters go through a plain idempotent producer; extract
  // and load send everything in per-partition transactions.
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const groupId = groupIdOf(pipeline, stage);
  const transactions = new PartitionTransactions(kafkaTransactionalClient(kafka), groupId, logger);
  const { threads, maxQueue } = pipeline.pool;
  let processor: BatchProcessor;
  let pool: WorkerPool<unknown, unknown> | undefined;
  switch (stage) {
    case 'extract': {
      const extractPool = new WorkerPool<ExtractTask, ExtractResult>(extractWorkerFile, threads, maxQueue);
      pool = extractPool as WorkerPool<unknown, unknown>;
      processor = new ExtractProcessor(pipeline, registry, extractPool, transactions);
      break;
    }
    case 'load':
      processor = new LoadProcessor(pipeline, registry, connections.mysql(), stagingTable(pipeline), transactions, groupId);
      break;
    case 'transform': {
      const transformPool = new WorkerPool<TransformTask, TransformOutcome[]>(transformWorkerFile, threads, maxQueue);
      pool = transformPool as WorkerPool<unknown, unknown>;
      processor = new TransformProcessor(
        pipeline,
        registry,
        connections.mysql(),
        modelTables(pipeline),
        transformPool,
        producerSink(producer),
        groupId,
      );
      break;
    }
  }
  const inputTopic = { extract: pipeline.topics.raw, load: pipeline.topics.extracted, transform: pipeline.topics.loaded }[stage];
  const runner = new StageRunner({
    stage,
    pipeline,
    inputTopic,
    consumer: (groupId, listener) =>
      kafkaGroupConsumer(kafka, { groupId, sessionTimeoutMs: pipeline.consumer.sessionTimeoutMs }, listener),
    processor,
    logger,
    concurrency: Math.max(4, threads * 4),
    ...(pool === undefined ? {} : { pool }),
  });
  beforeStart?.(runner, pool);
  await runner.start();
  return {
    runner,
    ...(pool === undefined ? {} : { pool }),
    async stop() {
      await runner.stop();
      await producer.disconnect();
    },
  };
}

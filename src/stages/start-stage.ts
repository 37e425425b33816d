import { PartitionTransactions } from '../kafka/partition-transactions.ts';
import { kafkaTransactionalClient } from '../kafka/transactional-client.ts';
import { kafkaGroupConsumer } from '../kafka/group-consumer.ts';
import { topicRecordLimits } from '../kafka/topic-limits.ts';
import { topicIdReader } from '../kafka/topic-ids.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { AggregateViews } from './transform/aggregate-views.ts';
import { modelTables, stagingTable } from '../mysql/pipeline-tables.ts';
import type { Connections } from '../runtime/connections.ts';
import { WorkerPool } from '../threads/worker-pool.ts';
import { newChunkProgress } from './transform/watched-chunk.ts';
import { packBytes } from '../threads/packed-bytes.ts';
import { ConfigError } from '../errors.ts';
import { DeadLetterLog } from '../mysql/dead-letter-log.ts';
import { AppliedOriginStore } from '../mysql/applied-origins.ts';
import { PartitionPositions } from '../mysql/partition-positions.ts';
import { ExtractProcessor, extractWorkerFile } from './extract/extract-stage.ts';
import type { ExtractResult, ExtractTask } from '../threads/extract-task.ts';
import { LoadProcessor } from './load/load-stage.ts';
import type { BatchProcessor } from './batch-processor.ts';
import { DeadLetterQueue } from './dead-letter.ts';
import { DeadLetterBreaker } from './dead-letter-breaker.ts';
import { stageRunner, type StageRunner } from './stage-runner.ts';
import { groupIdOf, inputTopicOf, type StageName } from '../pipeline/topology.ts';
import { TransformProcessor, transformWorkerFile } from './transform/transform-stage.ts';
import type { TransformOutcome, TransformTask } from '../threads/transform-task.ts';

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
  const groupId = groupIdOf(pipeline, stage);
  const transactions = new PartitionTransactions(kafkaTransactionalClient(kafka), groupId, logger);
  const { threads, maxQueue } = pipeline.pool;
  const recordLimitOf = topicRecordLimits(kafka, [pipeline.topics.extracted, pipeline.topics.loaded, pipeline.topics.dlq]);
  let processor: BatchProcessor;
  let pool: WorkerPool<unknown, unknown> | undefined;
  switch (stage) {
    case 'extract': {
      const extractPool = new WorkerPool<ExtractTask, ExtractResult>({
        file: extractWorkerFile,
        threads,
        maxQueue,
        memoryMb: pipeline.pool.memoryMb,
      });
      pool = extractPool as WorkerPool<unknown, unknown>;
      processor = new ExtractProcessor({ pipeline, registry, pool: extractPool, transactions, recordLimitOf, topicIdOf: topicIdReader(kafka) });
      break;
    }
    case 'load': {
      const mysql = connections.mysql(undefined, pipeline.batch.queryTimeoutMs);
      processor = new LoadProcessor({
        pipeline,
        registry,
        mysql,
        table: stagingTable(pipeline),
        transactions,
        positions: new PartitionPositions(mysql, groupId, pipeline.topics.extracted),
        deadLetterLog: new DeadLetterLog(mysql, groupId, pipeline.topics.extracted),
        recordLimitOf,
      });
      break;
    }
    case 'transform': {
      const transformPool = new WorkerPool<TransformTask, TransformOutcome[]>({
        file: transformWorkerFile,
        threads,
        maxQueue,
        memoryMb: pipeline.pool.memoryMb,
      });
      pool = transformPool as WorkerPool<unknown, unknown>;
      await ensureTransformLoads(transformPool, pipeline);
      const mysql = connections.mysql(undefined, pipeline.batch.queryTimeoutMs);
      const aggregates = new AggregateViews({
        aggregates: pipeline.transform.aggregates,
        modelTables: modelTables(pipeline),
        groupId,
        partitions: pipeline.partitions,
      });
      processor = new TransformProcessor({
        pipeline,
        registry,
        mysql,
        tables: modelTables(pipeline),
        pool: transformPool,
        transactions,
        positions: new PartitionPositions(mysql, groupId, pipeline.topics.loaded),
        deadLetterLog: new DeadLetterLog(mysql, groupId, pipeline.topics.loaded),
        aggregates,
        origins: new AppliedOriginStore(mysql, groupId, pipeline.topics.loaded),
        logger,
      });
      break;
    }
  }
  const inputTopic = inputTopicOf(pipeline, stage);
  const { sessionTimeoutMs } = pipeline.consumer;
  const breaker = pipeline.deadLetters.breaker;
  const runner = stageRunner({
    groupId,
    inputTopic,
    sessionTimeoutMs,
    consumer: (id, listener) => kafkaGroupConsumer(kafka, { groupId: id, sessionTimeoutMs }, listener),
    processor,
    deadLetters: new DeadLetterQueue({
      topic: pipeline.topics.dlq,
      stage,
      recordLimitOf,
      breaker: breaker === undefined ? undefined : new DeadLetterBreaker(breaker),
    }),
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
    },
  };
}

/**
 * Loads the pipeline's transform module in the pool before the member joins:
 * a module that fails to load is a deployment error, which ends the stage with
 * a sentence that says so, rather than a partition stalled or every record
 * dead-lettered (the records wait in the loaded topic for a fixed module).
 */
async function ensureTransformLoads(pool: WorkerPool<TransformTask, TransformOutcome[]>, pipeline: Pipeline): Promise<void> {
  try {
    await pool.run({
      modulePath: pipeline.transform.modulePath,
      writerSchemas: {},
      values: packBytes([]),
      deletes: {},
      keyField: pipeline.source.keyField,
      progress: newChunkProgress(),
    });
  } catch (error) {
    await pool.close();
    throw new ConfigError(`the transform module ${pipeline.transform.modulePath} failed to load: ${(error as Error).message}`);
  }
}

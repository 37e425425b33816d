import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { migrate } from '../../src/migrate/migrate.ts';
import { loadPipeline, type Pipeline, type PipelineSpecInput } from '../../src/pipeline/spec.ts';
import type { Endpoints } from '../../src/config/endpoints.ts';
import { connectTo, type Connections } from '../../src/runtime/connections.ts';
import { startStage, type RunningStage } from '../../src/stages/start-stage.ts';
import { stageNames, type StageName } from '../../src/pipeline/topology.ts';
import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { stageLag } from '../../src/status/lag.ts';
import { createTestDatabase, endpoints, uniqueName, type TestDatabase } from './stack.ts';

export const pageviewsSpecPath = fileURLToPath(new URL('../../schemas/pageviews.pipeline.yaml', import.meta.url));

/**
 * A pageviews pipeline of its own for one test: unique topics and subjects,
 * a fresh database, migrated; stages started in this process.
 */
export interface TestPipeline {
  pipeline: Pipeline;
  /** The spec on disk (absolute paths), for stages run as processes. */
  specPath: string;
  /** The endpoints of this pipeline: the stack's, with the test's own database. */
  endpoints: Endpoints;
  db: TestDatabase;
  connections: Connections;
  start(stage: StageName): Promise<RunningStage>;
  cleanup(): Promise<void>;
}

/** The example spec with its files' paths made absolute: the base of a test's overrides. */
export function exampleSpec(): PipelineSpecInput {
  const document = parseYaml(readFileSync(pageviewsSpecPath, 'utf8')) as PipelineSpecInput;
  return { ...document, ...filesAt(document, (relative) => resolve(pageviewsSpecPath, '..', relative)) };
}

export async function createTestPipeline(
  overrides: Partial<PipelineSpecInput> = {},
  kafkaBrokers: string[] = endpoints().kafkaBrokers,
  { migrated = true }: { migrated?: boolean } = {},
): Promise<TestPipeline> {
  const document = exampleSpec();
  const files = { source: document.source, transform: document.transform };
  const spec: PipelineSpecInput = {
    ...document,
    name: uniqueName('pv').replace(/_/g, '-'),
    pool: { threads: 2 },
    ...overrides,
    source: overrides.source ?? files.source,
    transform: overrides.transform ?? files.transform,
  };
  const specPath = join(mkdtempSync(join(tmpdir(), 'kelt-test-')), 'pipeline.yaml');
  writeFileSync(specPath, stringifyYaml(spec));
  const pipeline = loadPipeline(specPath);
  const db = await createTestDatabase();
  const testEndpoints = { ...endpoints(), kafkaBrokers, mysqlUrl: db.url };
  const connections = connectTo(testEndpoints, 'warn', 'test', { pipeline: pipeline.name });
  if (migrated) {
    const pool = connections.mysql();
    await migrate(pipeline, { ...connections, mysql: pool });
    await pool.end();
  }
  const running: RunningStage[] = [];
  return {
    pipeline,
    specPath,
    endpoints: testEndpoints,
    db,
    connections,
    async start(stage) {
      const stageRun = await startStage(stage, pipeline, connections);
      running.push(stageRun);
      return stageRun;
    },
    async cleanup() {
      await Promise.all(running.map((stageRun) => stageRun.stop()));
      const admin = connections.kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(pipeline.topics) });
      await admin.disconnect();
      await db.drop();
    },
  };
}

/**
 * The spec's files (source schema and generator, transform module), each
 * path made absolute by `at` from the spec's relative one: a spec written
 * elsewhere (a temp directory, a container) still finds them.
 */
export function filesAt(spec: PipelineSpecInput, at: (relative: string) => string): Pick<PipelineSpecInput, 'source' | 'transform'> {
  return {
    source: {
      ...spec.source,
      schema: at(spec.source.schema),
      ...(spec.source.generator === undefined ? {} : { generator: at(spec.source.generator) }),
    },
    transform: { ...spec.transform, module: at(spec.transform.module) },
  };
}

/** Waits until every stage's group has consumed its input topic to the end (each partition committed where it has records). */
export async function waitCaughtUp(t: Pick<TestPipeline, 'pipeline' | 'connections'>): Promise<void> {
  const admin = await openClusterAdmin(t.connections.kafka);
  try {
    await waitFor('every stage caught up', async () => {
      for (const stage of stageNames) {
        const lag = await stageLag(admin, t.pipeline, stage);
        if (lag.lag > 0 || lag.partitions.some((p) => p.end > 0 && p.committed < 0)) return false;
      }
      return true;
    });
  } finally {
    await admin.close();
  }
}

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

export async function countRows(db: TestDatabase, table: string): Promise<number> {
  const [rows] = await db.pool.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number((rows as Array<{ n: number }>)[0]!.n);
}

/**
 * Every committed record of a topic up to its end offsets of the moment
 * (read_committed: aborted transactions are not counted). Done when the
 * reader's committed position reaches the end offsets, which in a
 * transactional topic lie past commit markers, not past records.
 */
/** A record read back from a topic, with the partition it is in. */
export type ReadRecord = KafkaMessage & { partition: number };

export async function readTopic(kafka: Kafka, topic: string): Promise<ReadRecord[]> {
  const groupId = uniqueName('kelt-test-reader');
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  // By partition and offset: a reader that restarts (kafkajs does, after a
  // connection error) is handed records again, which are not the pipeline's duplicates.
  const messages = new Map<string, ReadRecord>();
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 100,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) messages.set(`${batch.partition}:${message.offset}`, { ...message, partition: batch.partition });
    },
  });
  try {
    await waitFor(
      `a reader at the end of ${topic}`,
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const at = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        return ends.every((end) => BigInt(end.high) === BigInt(end.low) || (at.get(end.partition) ?? -1n) >= BigInt(end.high));
      },
      60_000,
    );
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
  return [...messages.values()];
}

/**
 * Writes records read from `topic` into it a second time, as a stage whose
 * group's offset moved back would (KAFKA-20634 on Kafka < 4.3): the same
 * keys, values and headers, at new offsets of the same partitions.
 */
export async function writeAgain(kafka: Kafka, topic: string, records: readonly ReadRecord[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: javaCompatiblePartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: records.map(({ key, value, headers, partition }) => ({ key, value, headers, partition })) });
  } finally {
    await producer.disconnect();
  }
}

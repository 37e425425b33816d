import { workerFile } from '../../runtime/project-files.ts';
import type { PartitionTransactions } from '../../kafka/partition-transactions.ts';
import type { ConsumedRecord, OutgoingRecord } from '../../kafka/records.ts';
import { loneRecordBytes } from '../../kafka/send.ts';
import type { RecordLimitOf } from '../../kafka/topic-limits.ts';
import { extractedSchema } from '../../pipeline/extracted-schema.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import { writerSchemasOf, type SchemaRegistryClient } from '../../registry/client.ts';
import type { WorkerPool } from '../../threads/worker-pool.ts';
import { chunk } from '../chunks.ts';
import { packBytes, transferablesOf, unpackBytes } from '../../threads/packed-bytes.ts';
import type { DeadLetter } from '../dead-letter.ts';
import { deleteHeaders } from '../../records/record-ops.ts';
import { originHeadersOf } from '../../records/record-origin.ts';
import type { BatchAbilities, BatchReport, PartitionBatch, TopicPartition } from '../batch-processor.ts';
import { TransactionalProcessor } from '../transactional-processor.ts';
import type { ExtractResult, ExtractTask } from '../../threads/extract-task.ts';

export const extractWorkerFile = workerFile('extract-worker');

export interface ExtractProcessorOptions {
  pipeline: Pipeline;
  registry: Pick<SchemaRegistryClient, 'registerAvro' | 'schemaText'>;
  pool: WorkerPool<ExtractTask, ExtractResult>;
  /** The stage's transactions, one per input partition. */
  transactions: PartitionTransactions;
  /** Topics' max.message.bytes (a record over the extracted topic's is dead-lettered). */
  recordLimitOf: RecordLimitOf;
  /** A topic's id (KIP-516); undefined when the cluster has none. */
  topicIdOf: (topic: string) => Promise<string | undefined>;
}

/**
 * extract: raw records → decoded and validated in the worker pool →
 * re-keyed by the pipeline's key field → `<p>.extracted`. Records that
 * fail go to the DLQ; the rest of the batch goes on. The extracted records,
 * the dead letters and the consumed offset commit in one Kafka transaction:
 * exactly once between topics (downstream reads committed only).
 */
export class ExtractProcessor extends TransactionalProcessor {
  private readonly pipeline: Pipeline;
  private readonly registry: ExtractProcessorOptions['registry'];
  private readonly pool: WorkerPool<ExtractTask, ExtractResult>;
  private extractedSchemaId: number | undefined;
  private readonly recordLimitOf: RecordLimitOf;
  private readonly readerSchema: string;
  private readonly extractedSchema: string;
  private readonly topicIdOf: ExtractProcessorOptions['topicIdOf'];
  /** The raw topic's id, stamped on every record as part of its origin. */
  private rawTopicId: Promise<string | undefined> | undefined;
  /** Per raw partition, the last offset extracted: an offset at or below it again may be a topic created anew. */
  private readonly lastOffsets = new Map<number, bigint>();

  constructor({ pipeline, registry, pool, transactions, recordLimitOf, topicIdOf }: ExtractProcessorOptions) {
    super(transactions);
    this.recordLimitOf = recordLimitOf;
    this.topicIdOf = topicIdOf;
    this.pipeline = pipeline;
    this.registry = registry;
    this.pool = pool;
    this.readerSchema = JSON.stringify(pipeline.source.schema);
    this.extractedSchema = JSON.stringify(extractedSchema(pipeline.source.schema));
  }

  /**
   * The id of the extracted schema, registered (or found) on first use rather
   * than at start-up, so that a member started while the registry is away
   * pauses and retries like any other transient fault.
   */
  private async schemaId(): Promise<number> {
    this.extractedSchemaId ??= await this.registry.registerAvro(
      `${this.pipeline.topics.extracted}-value`,
      JSON.parse(this.extractedSchema) as object,
    );
    return this.extractedSchemaId;
  }

  /**
   * The raw topic's id, read again when a partition's offsets do not move
   * forward (a batch fetched again, or a topic deleted and created anew,
   * whose offsets start over): records of a new topic must not carry the old
   * one's id, or transform would take them for repeats.
   */
  private async rawTopicIdFor(batch: PartitionBatch): Promise<string | undefined> {
    if (this.rawTopicId === undefined || BigInt(batch.messages[0]!.offset) <= (this.lastOffsets.get(batch.partition) ?? -1n)) {
      const reading = this.topicIdOf(batch.topic);
      this.rawTopicId = reading;
      reading.catch(() => {
        if (this.rawTopicId === reading) this.rawTopicId = undefined;
      });
    }
    return this.rawTopicId;
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<BatchReport> {
    const rawTopicId = await this.rawTopicIdFor(batch);
    const extractedSchemaId = await this.schemaId();
    const recordLimit = await this.recordLimitOf(this.pipeline.topics.extracted);
    const writerSchemas =
      this.pipeline.source.format !== 'json'
        ? await writerSchemasOf(
            this.registry,
            batch.messages.map((message) => message.value),
          )
        : {};
    const ingestedAt = Date.now();
    const task = (messages: readonly ConsumedRecord[]): ExtractTask => ({
      format: this.pipeline.source.format,
      topic: batch.topic,
      keyField: this.pipeline.source.keyField,
      ingestedAt,
      readerSchema: this.readerSchema,
      extractedSchema: this.extractedSchema,
      extractedSchemaId,
      writerSchemas,
      partition: batch.partition,
      offsets: messages.map((message) => message.offset),
      values: packBytes(messages.map((message) => message.value)),
      deletes: this.pipeline.staging.deletes,
    });
    const results = (
      await Promise.all(chunk(batch.messages, this.pipeline.batch.chunkRecords).map((messages) => this.extractChunk(messages, task)))
    ).flat();
    // Records keep their original timestamp downstream: end-to-end latency is measured from it.
    const out: OutgoingRecord[] = [];
    const dead: DeadLetter[] = [];
    let i = 0;
    for (const result of results) {
      const values = unpackBytes(result.values);
      result.outcomes.forEach((outcome, j) => {
        const message = batch.messages[i++]!;
        const letter = { topic: batch.topic, partition: batch.partition, message };
        if (!outcome.ok) return void dead.push({ ...letter, reason: outcome.reason, error: outcome.error });
        if ('absorbed' in outcome) return;
        if (outcome.key === null && message.key === null) {
          // A tombstone names its row by its key alone: without one it deletes nothing, and no partition is its.
          return void dead.push({
            ...letter,
            reason: 'undecodable',
            error: 'a tombstone without a key: no row to delete, no partition to place it in',
          });
        }
        const record: OutgoingRecord = {
          key: outcome.key ?? message.key,
          value: values[j]!,
          timestamp: message.timestamp,
          headers: { ...originHeadersOf(batch.partition, message.offset, rawTopicId), ...(outcome.deletes ? deleteHeaders : {}) },
        };
        const bytes = loneRecordBytes(record);
        if (bytes <= recordLimit) return void out.push(record);
        dead.push({
          ...letter,
          reason: 'record_too_large',
          error: `the extracted record (${bytes} bytes) exceeds ${this.pipeline.topics.extracted}'s max.message.bytes (${recordLimit})`,
        });
      });
    }
    deadLetters.admit(
      batch.messages.length,
      dead.map((letter) => letter.reason),
    );
    const kafkaStarted = performance.now();
    await this.transactions.run(batch.topic, batch.partition, batch.nextOffset, async (sink) => {
      await sink.send(this.pipeline.topics.extracted, out, this.pipeline.partitions);
      await deadLetters.send(sink, dead);
    });
    const kafkaSeconds = (performance.now() - kafkaStarted) / 1000;
    this.lastOffsets.set(batch.partition, BigInt(batch.messages.at(-1)!.offset));
    return { produced: out.length, written: 0, deadLettered: dead.map((letter) => letter.reason), kafkaSeconds };
  }

  /**
   * Extracts a chunk on the pool. A chunk that runs its worker out of memory
   * (`pool.memoryMb`) runs again a record per task, so that the record that
   * does it is dead-lettered (extract_error) alone and the others go on.
   */
  private async extractChunk(
    messages: readonly ConsumedRecord[],
    task: (messages: readonly ConsumedRecord[]) => ExtractTask,
  ): Promise<ExtractResult[]> {
    const run = (records: readonly ConsumedRecord[]) => {
      const built = task(records);
      return this.pool.run(built, transferablesOf(built.values));
    };
    try {
      return [await run(messages)];
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      return Promise.all(
        messages.map((message) =>
          run([message]).catch((alone: unknown): ExtractResult => {
            if (!isOutOfMemory(alone)) throw alone;
            return {
              outcomes: [
                {
                  ok: false,
                  reason: 'extract_error',
                  error: `extracting this record ran its worker out of memory (${this.pipeline.pool.memoryMb} MB)`,
                },
              ],
              values: packBytes([null]),
            };
          }),
        ),
      );
    }
  }

  /**
   * Partitions whose group offset belongs to a raw topic deleted since (a
   * topic of the same name created anew starts its offsets over) are read
   * from their start, not from that offset.
   */
  override async onAssignment(owned: TopicPartition[], seek?: (partition: number, offset: string) => void): Promise<void> {
    await super.onAssignment(owned);
    for (const partition of await this.transactions.committedForOtherTopic(
      this.pipeline.topics.raw,
      owned.map((p) => p.partition),
    )) {
      seek?.(partition, '0');
    }
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.pool.close();
  }
}

/** A worker past its heap limit dies, and its task fails with this code (Node's worker_threads). */
function isOutOfMemory(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

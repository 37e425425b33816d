import type { ClusterAdmin } from '../kafka/cluster-admin.ts';
import type { KafkaCluster } from '../kafka/client.ts';
import { readTopicRange } from '../kafka/topic-reader.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { groupIdPrefix } from '../pipeline/topology.ts';
import { readDeadLetter, type DeadLetterRecord } from './dead-letter-record.ts';

/**
 * The consumer group that keeps how far the dead letters of one stage and
 * reason have been redriven, per DLQ partition. A letter belongs to exactly
 * one such group, so redrives chosen by stage and reason never send a letter
 * twice, whatever was chosen before.
 */
export function redriveGroupId(pipeline: Pipeline, stage: string, reason: string): string {
  return `${groupIdPrefix(pipeline)}.redrive.${stage}.${reason}`;
}

/**
 * Reads the pipeline's DLQ from its start to where it ends now (or the one
 * letter at `only`), handing the dead letters over per fetched batch (one
 * partition, in offset order) with the offset after the batch.
 */
export async function readDeadLetters(
  { kafka, admin }: { kafka: KafkaCluster; admin: ClusterAdmin },
  pipeline: Pipeline,
  onLetters: (partition: number, letters: DeadLetterRecord[], nextOffset: bigint) => Promise<void>,
  only?: { partition: number; offset: bigint },
): Promise<void> {
  const topic = pipeline.topics.dlq;
  let [from, to] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic)]);
  if (only !== undefined) {
    const inTopic = only.offset >= (from.get(only.partition) ?? 0n) && only.offset < (to.get(only.partition) ?? 0n);
    [from, to] = inTopic ? [new Map([[only.partition, only.offset]]), new Map([[only.partition, only.offset + 1n]])] : [new Map(), new Map()];
  }
  await readTopicRange(kafka, topic, { from, to }, (partition, records, nextOffset) =>
    onLetters(
      partition,
      records.map((record) => readDeadLetter(partition, record)),
      nextOffset,
    ),
  );
}

/** Per redrive group, its committed offsets in the DLQ: the letters below were redriven, or passed as not redrivable. */
export async function redrivenUpTo(admin: ClusterAdmin, pipeline: Pipeline): Promise<Map<string, Map<number, bigint>>> {
  const prefix = `${groupIdPrefix(pipeline)}.redrive.`;
  const ids = (await admin.groupIds()).filter((id) => id.startsWith(prefix));
  const offsets = new Map<string, Map<number, bigint>>();
  for (const groupId of ids) offsets.set(groupId, await admin.committedOffsets(groupId, pipeline.topics.dlq));
  return offsets;
}

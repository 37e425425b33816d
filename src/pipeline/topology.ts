import type { Pipeline } from './spec.ts';

/**
 * A pipeline's topology, declared once: its stages in the order a record
 * crosses them, the topic each reads, and the consumer group each runs in.
 * The runner, status, replay, metrics, the DLQ commands and the CLI derive
 * theirs from here.
 */
export const stageNames = ['extract', 'load', 'transform'] as const;
export type StageName = (typeof stageNames)[number];

/** The prefix of every consumer group and transactional id of a pipeline. */
export function groupIdPrefix(pipeline: Pick<Pipeline, 'name'>): string {
  return `kelt.${pipeline.name}`;
}

/** The consumer group of a stage: one per pipeline and stage, shared by all its members. */
export function groupIdOf(pipeline: Pick<Pipeline, 'name'>, stage: StageName): string {
  return `${groupIdPrefix(pipeline)}.${stage}`;
}

/** The topic a stage reads (and the one its dead letters name as their original). */
export function inputTopicOf(pipeline: Pick<Pipeline, 'topics'>, stage: StageName): string {
  return { extract: pipeline.topics.raw, load: pipeline.topics.extracted, transform: pipeline.topics.loaded }[stage];
}

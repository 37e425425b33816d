import type { AccessRule, AclOperation } from '../kafka/access-rule.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { groupIdOf, inputTopicOf, stageNames, type StageName } from '../pipeline/topology.ts';

/** Who asks: each stage, migrate (creates the topics), produce (writes the raw topic) and collect (the HTTP collector). */
export const accessRoles = [...stageNames, 'migrate', 'produce', 'collect'] as const;
export type AccessRole = (typeof accessRoles)[number];

/** What a role writes to, besides its dead letters. */
function outputTopics(pipeline: Pick<Pipeline, 'topics'>, stage: StageName): string[] {
  return { extract: [pipeline.topics.extracted], load: [pipeline.topics.loaded], transform: [] }[stage];
}

/**
 * The Kafka ACLs each role of a pipeline needs and nothing more, derived
 * from its topology. `principalOf` names the principal a role runs as.
 * Kafka lets READ and WRITE imply DESCRIBE; every role also describes the
 * pipeline's topics and their configs (start-up checks that they exist and
 * reads their record size limits).
 */
export function pipelineAcls(pipeline: Pick<Pipeline, 'name' | 'topics'>, role: AccessRole, principalOf: (role: AccessRole) => string): AccessRule[] {
  const principal = principalOf(role);
  const topics = Object.values(pipeline.topics);
  const rule = (resource: AccessRule['resource'], name: string, operation: AclOperation, because: string): AccessRule => ({
    principal,
    resource,
    name,
    pattern: 'literal',
    operation,
    because,
  });
  if (role === 'produce') {
    return [rule('topic', pipeline.topics.raw, 'write', 'puts events on the raw topic (idempotent producer)')];
  }
  if (role === 'collect') {
    return [
      rule('topic', pipeline.topics.raw, 'write', 'puts the accepted events on the raw topic (idempotent producer)'),
      rule('topic', pipeline.topics.raw, 'describe-configs', 'reads the raw topic’s record size limit (an event over it is refused alone)'),
    ];
  }
  if (role === 'migrate') {
    return [
      ...topics.map((topic) => rule('topic', topic, 'create', 'creates the topic')),
      ...topics.map((topic) => rule('topic', topic, 'describe', 'checks its partition count and that its partitions have leaders')),
    ];
  }
  const group = groupIdOf(pipeline, role);
  return [
    rule('topic', inputTopicOf(pipeline, role), 'read', 'consumes its input'),
    rule('group', group, 'read', 'joins its consumer group and commits offsets in its transactions'),
    ...[...outputTopics(pipeline, role), pipeline.topics.dlq].map((topic) =>
      rule('topic', topic, 'write', topic === pipeline.topics.dlq ? 'sends dead letters' : 'produces its output'),
    ),
    { ...rule('transactional-id', `${group}.`, 'write', 'one transactional producer per input partition'), pattern: 'prefixed' },
    ...topics.map((topic) => rule('topic', topic, 'describe', 'checks at start that the pipeline’s topics exist')),
    ...topics.map((topic) => rule('topic', topic, 'describe-configs', 'reads the topics’ record size limits')),
  ];
}

/** The rules in kafka-acls's words, one per line. */
export function formatAcls(rules: readonly AccessRule[]): string {
  return rules
    .map(
      (rule) =>
        `ALLOW ${rule.principal.padEnd(22)} ${rule.operation.toUpperCase().replace('-', '_').padEnd(16)} ${rule.resource.toUpperCase().replace('-', '_')} ${rule.pattern === 'prefixed' ? 'PREFIXED' : 'LITERAL'} ${rule.name}   # ${rule.because}`,
    )
    .join('\n');
}

import { isRetriable } from './errors.ts';
import { createRequire } from 'node:module';
import type kafkajs from 'kafkajs';
import type { AclEntry, AclOperationTypes, AclResourceTypes, Admin } from 'kafkajs';
import type { AccessRule } from './access-rule.ts';
import { TransientError } from '../errors.ts';
import { retryTransient } from '../retry/retry.ts';
import type { KafkaCluster } from './client.ts';
import type { AdminWithTopicIds } from './topic-ids.ts';

/** Where a topic's partitions start, end, or stood at a time: partition → offset. */
export type PartitionOffsets = Map<number, bigint>;

export interface GroupMember {
  clientId: string;
  host: string;
  /** The partitions assigned to the member, per topic. */
  assigned: Map<string, number[]>;
}

export interface GroupDescription {
  groupId: string;
  /** The group's state as the coordinator reports it (Stable, PreparingRebalance, Empty…). */
  state: string;
  members: GroupMember[];
}

/**
 * What kelt's commands and monitors ask of a Kafka cluster's metadata:
 * topics, their offsets, and consumer groups. kelt's own interface over the
 * Kafka client's admin, so that migrate, status, replay, lag and the DLQ
 * commands stay out of kafkajs.
 */
export interface ClusterAdmin {
  /** Answers when a broker does (the readiness check). */
  ping(): Promise<void>;
  topicNames(): Promise<string[]>;
  /** The id (KIP-516) of each of `topics` that exists, as 32 hex digits; none when the cluster predates topic ids. */
  topicIds(topics: readonly string[]): Promise<Map<string, string>>;
  /** The partition count of each of `topics` that exists. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Creates topics, then waits until every partition of each has a leader. */
  createTopics(topics: readonly string[], partitions: number): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Adds partitions to existing topics up to `partitions` each, then waits until every partition has a leader. */
  growTopics(topics: readonly string[], partitions: number): Promise<void>;
  /** Per partition, the log-start and log-end (high watermark) offsets. */
  offsetRanges(topic: string): Promise<Map<number, { start: bigint; end: bigint }>>;
  startOffsets(topic: string): Promise<PartitionOffsets>;
  endOffsets(topic: string): Promise<PartitionOffsets>;
  /** Per partition, the first offset whose record's timestamp is at or after `ms` (the end when none is). */
  offsetsAtTime(topic: string, ms: number): Promise<PartitionOffsets>;
  /** A group's committed offsets on a topic; partitions with none are left out. */
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffsets>;
  /** Moves an empty group's committed offsets (the broker refuses while it has members). */
  setCommittedOffsets(groupId: string, topic: string, offsets: PartitionOffsets): Promise<void>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  groupIds(): Promise<string[]>;
  /** Grants the rules (ALLOW, from any host); rules that exist already are left as they are. */
  createAcls(rules: readonly AccessRule[]): Promise<void>;
  /** Removes exactly these rules. */
  deleteAcls(rules: readonly AccessRule[]): Promise<void>;
  close(): Promise<void>;
}

// kafkajs's ACL enums, from their own modules (the values its root exports):
// the root loads its consumer, which must load only after kelt's patches of it.
const kafkajsModule = createRequire(import.meta.url);
const operations = kafkajsModule('kafkajs/src/protocol/aclOperationTypes.js') as typeof kafkajs.AclOperationTypes;
const permissions = kafkajsModule('kafkajs/src/protocol/aclPermissionTypes.js') as typeof kafkajs.AclPermissionTypes;
const resources = kafkajsModule('kafkajs/src/protocol/aclResourceTypes.js') as typeof kafkajs.AclResourceTypes;
const patterns = kafkajsModule('kafkajs/src/protocol/resourcePatternTypes.js') as typeof kafkajs.ResourcePatternTypes;

const aclResources: Record<AccessRule['resource'], AclResourceTypes> = {
  topic: resources.TOPIC,
  group: resources.GROUP,
  'transactional-id': resources.TRANSACTIONAL_ID,
  cluster: resources.CLUSTER,
};
const aclOperations: Record<AccessRule['operation'], AclOperationTypes> = {
  read: operations.READ,
  write: operations.WRITE,
  create: operations.CREATE,
  describe: operations.DESCRIBE,
  'describe-configs': operations.DESCRIBE_CONFIGS,
};

function aclEntry(rule: AccessRule): AclEntry {
  return {
    resourceType: aclResources[rule.resource],
    resourceName: rule.name,
    resourcePatternType: rule.pattern === 'prefixed' ? patterns.PREFIXED : patterns.LITERAL,
    principal: rule.principal,
    host: '*',
    operation: aclOperations[rule.operation],
    permissionType: permissions.ALLOW,
  };
}

/** A connected admin on the cluster (the caller closes it). */
export async function openClusterAdmin(kafka: KafkaCluster): Promise<ClusterAdmin> {
  const admin = kafka.admin();
  await admin.connect();
  return new KafkajsClusterAdmin(admin);
}

class KafkajsClusterAdmin implements ClusterAdmin {
  private readonly admin: Admin;

  constructor(admin: Admin) {
    this.admin = admin;
  }

  async ping(): Promise<void> {
    await this.admin.describeCluster();
  }

  topicNames(): Promise<string[]> {
    return this.admin.listTopics();
  }

  topicIds(topics: readonly string[]): Promise<Map<string, string>> {
    return (this.admin as AdminWithTopicIds).topicIds(topics);
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    if (topics.length === 0) return new Map();
    const { topics: found } = await this.admin.fetchTopicMetadata({ topics: [...topics] });
    return new Map(found.map((topic) => [topic.name, topic.partitions.length]));
  }

  async createTopics(topics: readonly string[], partitions: number): Promise<void> {
    await this.admin.createTopics({ waitForLeaders: false, topics: topics.map((topic) => ({ topic, numPartitions: partitions })) });
    await this.leadersElected(topics, partitions);
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.admin.deleteTopics({ topics: [...topics] });
  }

  async growTopics(topics: readonly string[], partitions: number): Promise<void> {
    await this.admin.createPartitions({ topicPartitions: topics.map((topic) => ({ topic, count: partitions })) });
    await this.leadersElected(topics, partitions);
  }

  /**
   * kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, and a
   * KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION for a topic it created a
   * moment ago until the metadata has propagated: migrate failed on that in
   * one of three fresh-clone CI runs. Every retriable answer is retried here,
   * for up to a minute.
   */
  private async leadersElected(topics: readonly string[], partitions = 1): Promise<void> {
    const deadline = Date.now() + 60_000;
    await retryTransient(
      async () => {
        const metadata = await this.admin.fetchTopicMetadata({ topics: [...topics] });
        const leaderless = metadata.topics.filter((topic) => topic.partitions.length < partitions || topic.partitions.some((p) => p.leader < 0));
        if (metadata.topics.length < topics.length || leaderless.length > 0)
          throw new TransientError(`the new topics' partitions have no leader yet`);
      },
      { isRetriable, shouldStop: () => Date.now() > deadline, policy: { initialMs: 100, maxMs: 1_000 } },
    );
  }

  async offsetRanges(topic: string): Promise<Map<number, { start: bigint; end: bigint }>> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return new Map(offsets.map(({ partition, low, high }) => [partition, { start: BigInt(low), end: BigInt(high) }]));
  }

  async startOffsets(topic: string): Promise<PartitionOffsets> {
    return new Map([...(await this.offsetRanges(topic))].map(([partition, { start }]) => [partition, start]));
  }

  async endOffsets(topic: string): Promise<PartitionOffsets> {
    return new Map([...(await this.offsetRanges(topic))].map(([partition, { end }]) => [partition, end]));
  }

  async offsetsAtTime(topic: string, ms: number): Promise<PartitionOffsets> {
    const [atTime, ends] = await Promise.all([this.admin.fetchTopicOffsetsByTimestamp(topic, ms), this.endOffsets(topic)]);
    return new Map(atTime.map(({ partition, offset }) => [partition, BigInt(offset) < 0n ? ends.get(partition)! : BigInt(offset)]));
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffsets> {
    const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((committed?.partitions ?? []).filter((p) => BigInt(p.offset) >= 0n).map((p) => [p.partition, BigInt(p.offset)]));
  }

  async setCommittedOffsets(groupId: string, topic: string, offsets: PartitionOffsets): Promise<void> {
    await this.admin.setOffsets({
      groupId,
      topic,
      partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
    });
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    const { groups } = await this.admin.describeGroups([...groupIds]);
    return groups.map((group) => ({
      groupId: group.groupId,
      state: group.state,
      members: group.members.map((member) => ({
        clientId: member.clientId,
        host: member.clientHost.replace(/^\//, ''),
        assigned: memberAssignment(member.memberAssignment),
      })),
    }));
  }

  async groupIds(): Promise<string[]> {
    const { groups } = await this.admin.listGroups();
    return groups.map((group) => group.groupId);
  }

  async createAcls(rules: readonly AccessRule[]): Promise<void> {
    if (rules.length > 0) await this.admin.createAcls({ acl: rules.map(aclEntry) });
  }

  async deleteAcls(rules: readonly AccessRule[]): Promise<void> {
    if (rules.length > 0) await this.admin.deleteAcls({ filters: rules.map(aclEntry) });
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }
}

/**
 * A member's partitions per topic, decoded from the consumer protocol's
 * MemberAssignment (version, then topic → partitions; user data after is
 * ignored). An empty or foreign assignment decodes to none.
 */
export function memberAssignment(assignment: Buffer): Map<string, number[]> {
  const assigned = new Map<string, number[]>();
  if (assignment.length < 6) return assigned;
  let at = 2;
  const topics = assignment.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = assignment.readInt16BE(at);
    at += 2;
    const name = assignment.toString('utf8', at, at + nameLength);
    at += nameLength;
    const count = assignment.readInt32BE(at);
    at += 4;
    const partitions: number[] = [];
    for (let p = 0; p < count; p++, at += 4) partitions.push(assignment.readInt32BE(at));
    assigned.set(
      name,
      partitions.sort((a, b) => a - b),
    );
  }
  return assigned;
}

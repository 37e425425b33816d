import type { Admin } from 'kafkajs';

/** Where a topic's partitions start, end, or stood at a time: partition → offset. */
export type PartitionOffsets = Map<number, bigint>;

/** The members of a consumer group (client id @ host), none when it is empty or unknown. */
export async function groupMembers(admin: Admin, groupId: string): Promise<string[]> {
  const { groups } = await admin.describeGroups([groupId]);
  return (groups[0]?.members ?? []).map((member) => `${member.clientId}@${member.clientHost}`);
}

export async function startOffsets(admin: Admin, topic: string): Promise<PartitionOffsets> {
  return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, low }) => [partition, BigInt(low)]));
}

export async function endOffsets(admin: Admin, topic: string): Promise<PartitionOffsets> {
  return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, BigInt(high)]));
}

/** Per partition, the first offset whose record's timestamp is at or after `ms` (the end when none is). */
export async function offsetsAtTime(admin: Admin, topic: string, ms: number): Promise<PartitionOffsets> {
  const [atTime, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, ms), endOffsets(admin, topic)]);
  return new Map(atTime.map(({ partition, offset }) => [partition, BigInt(offset) < 0n ? ends.get(partition)! : BigInt(offset)]));
}

/** Moves an empty group's committed offsets (the broker refuses while it has members). */
export async function setGroupOffsets(admin: Admin, groupId: string, topic: string, offsets: PartitionOffsets): Promise<void> {
  await admin.setOffsets({
    groupId,
    topic,
    partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
  });
}

import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import { ConfigError } from '../errors.ts';
import { PartitionTransactions } from '../kafka/partition-transactions.ts';
import { kafkaTransactionalClient } from '../kafka/transactional-client.ts';
import type { OutgoingRecord } from '../kafka/records.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import type { Connections } from '../runtime/connections.ts';
import { redrivenRecord, redriveRefusal, type DeadLetterRecord } from './dead-letter-record.ts';
import { readDeadLetters, redriveGroupId } from './dlq-reader.ts';
import { matches, type LetterFilter } from './letter-filter.ts';

export interface RedriveCounts {
  redriven: number;
  /** Letters a redrive sent before this one. */
  alreadyRedriven: number;
  /** Letters that cannot go back (no value kept, no original topic): passed, with why. */
  notRedrivable: Array<{ letter: string; why: string }>;
  /** Chosen letters left for a later redrive: they failed after --until. */
  leftForLater: number;
}

/**
 * `kelt dlq redrive`: produces the chosen dead letters again into their
 * original topic and partition (original key, value and headers), exactly
 * once. The letters of each stage and reason have a consumer group of their
 * own (`redriveGroupId`) whose offsets in the DLQ say how far they were
 * redriven; each batch of them is produced in a Kafka transaction that also
 * moves that group's offset, so a redrive that is interrupted, run again or
 * run beside another sends no letter twice (the transactional ids, one per
 * group and DLQ partition, fence a concurrent one). Choosing is by stage and
 * reason, and by time only as an upper bound (`until`): anything else could
 * leave a letter behind a group's offset without sending it.
 */
export async function redriveDeadLetters(
  pipeline: Pipeline,
  connections: Connections,
  filter: LetterFilter,
  say: (line: string) => void,
): Promise<RedriveCounts> {
  if (filter.since !== undefined || filter.originalTopic !== undefined) {
    throw new ConfigError(
      'a redrive chooses letters by --stage, --reason and --until only: each stage and reason is redriven in order, up to a time',
    );
  }
  const admin = await openClusterAdmin(connections.kafka);
  const transactions = new Map<string, PartitionTransactions>();
  const counts: RedriveCounts = { redriven: 0, alreadyRedriven: 0, notRedrivable: [], leftForLater: 0 };
  /** Per group and DLQ partition, where its letters stop for this redrive (the first that failed after --until). */
  const stoppedAt = new Map<string, bigint>();
  const transactionsOf = (groupId: string) => {
    let found = transactions.get(groupId);
    if (found === undefined) {
      found = new PartitionTransactions(kafkaTransactionalClient(connections.kafka), groupId, connections.logger);
      transactions.set(groupId, found);
    }
    return found;
  };
  const chosenGroup = (letter: DeadLetterRecord) => matches({ ...filter, until: undefined }, letter);
  try {
    await readDeadLetters({ kafka: connections.kafka, admin }, pipeline, async (partition, letters, nextOffset) => {
      const byGroup = new Map<string, DeadLetterRecord[]>();
      for (const letter of letters) {
        if (!chosenGroup(letter)) continue;
        const groupId = redriveGroupId(pipeline, letter.stage, letter.reason);
        const group = byGroup.get(groupId) ?? [];
        group.push(letter);
        byGroup.set(groupId, group);
      }
      for (const [groupId, groupLetters] of byGroup) {
        const stopKey = `${groupId}:${partition}`;
        if (stoppedAt.has(stopKey)) {
          counts.leftForLater += groupLetters.length;
          continue;
        }
        const txns = transactionsOf(groupId);
        const committed = (await txns.settle(pipeline.topics.dlq, partition)) ?? 0n;
        const pending = groupLetters.filter((letter) => letter.offset >= committed);
        counts.alreadyRedriven += groupLetters.length - pending.length;
        const late = pending.findIndex((letter) => !matches({ until: filter.until }, letter));
        const due = late === -1 ? pending : pending.slice(0, late);
        if (late !== -1) {
          stoppedAt.set(stopKey, pending[late]!.offset);
          counts.leftForLater += pending.length - late;
        }
        if (due.length === 0) continue;
        const records: Array<OutgoingRecord & { topic: string }> = [];
        for (const letter of due) {
          const why = redriveRefusal(letter);
          if (why === undefined) records.push(redrivenRecord(letter));
          else counts.notRedrivable.push({ letter: `${letter.partition}@${letter.offset}`, why });
        }
        const through = late === -1 ? nextOffset : pending[late]!.offset;
        await txns.run(pipeline.topics.dlq, partition, through.toString(), async (sink) => {
          for (const topic of new Set(records.map((record) => record.topic))) {
            await sink.send(
              topic,
              records.filter((record) => record.topic === topic).map(({ topic: _topic, ...record }) => record),
              pipeline.partitions,
            );
          }
        });
        counts.redriven += records.length;
        say(
          `redrove ${records.length} of ${groupId.slice(groupId.lastIndexOf('.redrive.') + 9)} from ${pipeline.topics.dlq}[${partition}] (${counts.redriven} so far)`,
        );
      }
    });
  } finally {
    await Promise.all([...transactions.values()].map((txns) => txns.close()));
    await admin.close();
  }
  return counts;
}

/** kafkajs as the TransactionalClient that PartitionTransactions runs on: a producer per transactional id, initialised at connect, and the group’s committed offsets and topic ids through one admin client. */
import type { Admin, Kafka, Transaction } from 'kafkajs';
import type { OpenTransaction, TransactionalClient } from './partition-transactions.ts';
import type { AdminWithTopicIds } from './topic-ids.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import { sendByPartition } from './send.ts';

function transactionOf(tx: Transaction): OpenTransaction {
  return {
    sink: { send: (topic, records, partitions) => sendByPartition(tx, { topic, partitions }, records, { inTransaction: true }) },
    sendOffsets: ({ groupId, topic, partition, nextOffset, topicId }) =>
      tx.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [{ partition, offset: nextOffset, ...(topicId === undefined ? {} : { metadata: topicId }) }] }],
      }),
    commit: () => tx.commit(),
    abort: () => tx.abort(),
  };
}

/** kafkajs as a TransactionalClient. */
export function kafkaTransactionalClient(kafka: Kafka): TransactionalClient {
  let admin: Promise<Admin> | undefined;
  const connectedAdmin = () => {
    if (admin === undefined) {
      const created = kafka.admin();
      admin = created.connect().then(() => created);
      admin.catch(() => (admin = undefined));
    }
    return admin;
  };
  return {
    async producer(transactionalId) {
      const producer = kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: javaCompatiblePartitioner,
        allowAutoTopicCreation: false,
        transactionTimeout: 60_000,
      });
      await producer.connect();
      // kafkajs's connect() initialises only a non-transactional producer id;
      // the transactional id is initialised by the first transaction(). An
      // empty transaction, aborted (no EndTxn is sent for it), initialises it
      // now, as this interface promises: older producers of the id are fenced
      // and their open transaction settled before this returns.
      try {
        const settling = await producer.transaction();
        await settling.abort();
      } catch (error) {
        await producer.disconnect();
        throw error;
      }
      return { transaction: async () => transactionOf(await producer.transaction()), disconnect: () => producer.disconnect() };
    },
    async committedPosition(groupId, topic, partition) {
      const [offsets] = await (await connectedAdmin()).fetchOffsets({ groupId, topics: [topic] });
      const found = offsets?.partitions.find((p) => p.partition === partition);
      if (found === undefined || BigInt(found.offset) < 0n) return undefined;
      return { offset: BigInt(found.offset), topicId: found.metadata === null || found.metadata === '' ? undefined : found.metadata };
    },
    async topicId(topic) {
      const admin = (await connectedAdmin()) as AdminWithTopicIds;
      return (await admin.topicIds([topic])).get(topic);
    },
    async close() {
      const current = admin;
      admin = undefined;
      if (current !== undefined) await (await current).disconnect();
    },
  };
}

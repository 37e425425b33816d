import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';

/**
 * The one door from the tests to kafkajs itself, for what a test must do
 * beneath kelt's own adapter (src/kafka): produce as another client would,
 * read a group's raw assignment, set a topic's config. Everything else goes
 * through kelt's types and test/support's helpers.
 */
export type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
export const { Partitioners, AssignerProtocol } = kafkajs;

/** A client of kafkajs's own, quiet, as a producer outside kelt would be. */
export function plainKafka(brokers: string[]): kafkajs.Kafka {
  return new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING });
}

/** A connected transactional producer of a transactional id of its own, as another application's would be. */
export async function openTransactionalProducer(kafka: kafkajs.Kafka): Promise<kafkajs.Producer> {
  const producer = kafka.producer({
    transactionalId: `kelt-test-tx-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

/** Sets each topic's max.message.bytes. */
export async function setMessageLimits(kafka: kafkajs.Kafka, limits: Record<string, number>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: Object.entries(limits).map(([name, bytes]) => ({
        type: kafkajs.ConfigResourceTypes.TOPIC,
        name,
        configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

import kafkajs, { type Kafka } from 'kafkajs';
import { classifyKafkaError } from './errors.ts';

/**
 * The largest record batch each topic accepts (its max.message.bytes, which
 * defaults to the broker's message.max.bytes). A record over it is refused
 * however often it is sent, so stages check before sending instead of
 * retrying a batch forever.
 */
// kafkajs is CommonJS, and Node's named-export detection misses this enum.
const { ConfigResourceTypes } = kafkajs;

export async function topicRecordLimits(kafka: Kafka, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
    });
    return new Map(
      resources.map((resource) => [resource.resourceName, Number(resource.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue)]),
    );
  } catch (error) {
    throw classifyKafkaError(error, `reading the record size limits of ${topics.join(', ')}`);
  } finally {
    await admin.disconnect();
  }
}

// Before kafkajs itself: see the module.
import './kafkajs-fixes.ts';
import kafkajs, { type Kafka } from 'kafkajs';
import { ConfigError } from '../errors.ts';
import { classifyKafkaError } from './errors.ts';

// kafkajs is CommonJS, and Node's named-export detection misses this enum.
const { ConfigResourceTypes } = kafkajs;

/** The largest record batch a topic accepts (bytes). */
export type RecordLimitOf = (topic: string) => Promise<number>;

/**
 * The largest record batch each topic accepts (its max.message.bytes, which
 * defaults to the broker's message.max.bytes). A record over it is refused
 * however often it is sent, so stages check before sending instead of
 * retrying a batch forever. Read on first use, not at start-up, so that a
 * member started while a broker is away retries like any batch; a failed
 * read is forgotten and tried again.
 */
export function topicRecordLimits(kafka: Kafka, topics: readonly string[]): RecordLimitOf {
  let limits: Promise<Map<string, number>> | undefined;
  const read = async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
      });
      return new Map(
        resources.map((resource) => [
          resource.resourceName,
          Number(resource.configEntries.find((entry) => entry.configName === 'max.message.bytes')?.configValue),
        ]),
      );
    } catch (error) {
      throw classifyKafkaError(error, `reading the record size limits of ${topics.join(', ')}`);
    } finally {
      await admin.disconnect();
    }
  };
  return async (topic) => {
    if (limits === undefined) {
      limits = read();
      limits.catch(() => (limits = undefined));
    }
    const limit = (await limits).get(topic);
    if (limit === undefined || Number.isNaN(limit)) throw new ConfigError(`no max.message.bytes could be read for topic ${topic}`);
    return limit;
  };
}

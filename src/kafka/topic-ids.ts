import type { Admin, Kafka } from 'kafkajs';
import { createRequire } from 'node:module';
import { patchKafkajsModule } from './kafkajs-patch.ts';

const require = createRequire(import.meta.url);

/**
 * Topic ids (KIP-516): a topic deleted and created again under the same
 * name gets a new id. kafkajs 2.2.4 speaks Metadata up to v6, which has no
 * ids, so kelt asks for them itself: a Metadata v12 request (Kafka ≥ 3.1),
 * encoded flexibly as kafkajs's own flexible requests are, sent on a
 * connection kafkajs already holds (its TLS and SASL included). The admin
 * client gains `topicIds(topics)`.
 */
const METADATA = 3;
const VERSION = 12;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

interface KafkajsEncoder {
  writeUVarIntBytes(value?: Buffer | null): KafkajsEncoder;
  writeUVarIntString(value: string | null): KafkajsEncoder;
  writeUVarInt(value: number): KafkajsEncoder;
  writeBoolean(value: boolean): KafkajsEncoder;
  writeBufferInternal(value: Buffer): void;
  readonly buffer: Buffer;
}
interface KafkajsDecoder {
  readInt16(): number;
  readInt32(): number;
  readBoolean(): boolean;
  readBytes(length: number): Buffer;
  readUVarIntString(): string | null;
  readUVarIntArray<T>(reader: (decoder: KafkajsDecoder) => T): T[] | null;
  readTaggedFields(): unknown;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => KafkajsDecoder;
const { failure, createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  failure(code: number): boolean;
  createErrorFromCode(code: number): Error;
};

interface TopicIdAnswer {
  name: string | null;
  errorCode: number;
  topicId: Buffer;
}

/** The Metadata v12 request for `topics` by name: kafkajs's request shape (apiKey, apiVersion, encode) and response (decode, parse). */
export function metadataV12Request(topics: readonly string[]) {
  return {
    request: {
      apiKey: METADATA,
      apiVersion: VERSION,
      apiName: 'Metadata',
      // The request header's tagged fields (header v2) come first, as in kafkajs's flexible requests.
      encode: async () => {
        const encoder = new Encoder().writeUVarIntBytes();
        encoder.writeUVarInt(topics.length + 1);
        for (const topic of topics) {
          // topic_id (all zeros: by name), name, tagged fields
          encoder.writeBufferInternal(Buffer.alloc(16));
          encoder.writeUVarIntString(topic).writeUVarIntBytes();
        }
        return encoder.writeBoolean(false).writeBoolean(false).writeUVarIntBytes();
      },
    },
    response: {
      decode: async (data: Buffer) => decodeMetadataV12(data),
      parse: async (answers: TopicIdAnswer[]) => {
        // A topic the cluster does not know is left out; any other refusal (authorization) fails the request.
        const failed = answers.find((answer) => answer.errorCode !== UNKNOWN_TOPIC_OR_PARTITION && failure(answer.errorCode));
        if (failed !== undefined) throw createErrorFromCode(failed.errorCode);
        return answers;
      },
    },
  };
}

/** The topics of a Metadata v12 response (after its correlation id): name, error, id. */
export function decodeMetadataV12(data: Buffer): TopicIdAnswer[] {
  const decoder = new Decoder(data);
  decoder.readTaggedFields();
  decoder.readInt32();
  decoder.readUVarIntArray((broker) => {
    broker.readInt32();
    broker.readUVarIntString();
    broker.readInt32();
    broker.readUVarIntString();
    broker.readTaggedFields();
  });
  decoder.readUVarIntString();
  decoder.readInt32();
  const topics =
    decoder.readUVarIntArray((topic) => {
      const errorCode = topic.readInt16();
      const name = topic.readUVarIntString();
      const topicId = topic.readBytes(16);
      topic.readBoolean();
      topic.readUVarIntArray((partition) => {
        partition.readInt16();
        partition.readInt32();
        partition.readInt32();
        partition.readInt32();
        for (let list = 0; list < 3; list++) partition.readUVarIntArray((node) => node.readInt32());
        partition.readTaggedFields();
      });
      topic.readInt32();
      topic.readTaggedFields();
      return { name, errorCode, topicId };
    }) ?? [];
  decoder.readTaggedFields();
  return topics;
}

interface KafkajsBroker {
  versions?: Record<number, { minVersion: number; maxVersion: number }>;
  connectionPool: { send(request: ReturnType<typeof metadataV12Request>): Promise<TopicIdAnswer[]> };
}
interface KafkajsCluster {
  refreshMetadataIfNecessary(): Promise<void>;
  findControllerBroker(): Promise<KafkajsBroker>;
}

/**
 * Each topic's id as 32 hex digits; a topic is left out when the cluster
 * does not know it or predates topic ids (Metadata v12 unsupported).
 */
async function topicIdsVia(cluster: KafkajsCluster, topics: readonly string[]): Promise<Map<string, string>> {
  await cluster.refreshMetadataIfNecessary();
  const broker = await cluster.findControllerBroker();
  const supported = broker.versions?.[METADATA];
  if (supported === undefined || supported.maxVersion < VERSION) return new Map();
  const answers = await broker.connectionPool.send(metadataV12Request(topics));
  return new Map(
    answers
      .filter(({ name, topicId }) => name !== null && topicId.some((byte) => byte !== 0))
      .map(({ name, topicId }) => [name!, topicId.toString('hex')]),
  );
}

/** kafkajs's admin as patched here. */
export type AdminWithTopicIds = Admin & { topicIds(topics: readonly string[]): Promise<Map<string, string>> };

type CreateAdmin = (options: { cluster: KafkajsCluster }) => object;

patchKafkajsModule<CreateAdmin>(
  'admin/index.js',
  'index.js',
  (create) => (options) => Object.assign(create(options), { topicIds: (topics: readonly string[]) => topicIdsVia(options.cluster, topics) }),
);

/** A topic's id through a short-lived admin client: undefined when the cluster has none for it. */
export function topicIdReader(kafka: Kafka): (topic: string) => Promise<string | undefined> {
  return async (topic) => {
    const admin = kafka.admin() as AdminWithTopicIds;
    await admin.connect();
    try {
      return (await admin.topicIds([topic])).get(topic);
    } finally {
      await admin.disconnect();
    }
  };
}

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeMetadataV12, metadataV12Request } from '../../../src/kafka/topic-ids.ts';

const require = createRequire(import.meta.url);
type Encoder = {
  writeInt16(value: number): Encoder;
  writeInt32(value: number): Encoder;
  writeBoolean(value: boolean): Encoder;
  writeUVarInt(value: number): Encoder;
  writeUVarIntString(value: string | null): Encoder;
  writeUVarIntBytes(value?: Buffer): Encoder;
  writeBufferInternal(value: Buffer): void;
  buffer: Buffer;
};
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;

/** A Metadata v12 response as a broker writes it (after the correlation id): one broker, the topics given. */
function response(topics: Array<{ name: string; errorCode: number; id: Buffer; partitions: number }>): Buffer {
  const e = new Encoder().writeUVarInt(0).writeInt32(0);
  e.writeUVarInt(2).writeInt32(1).writeUVarIntString('127.0.0.1').writeInt32(9092).writeUVarIntString(null).writeUVarInt(0);
  e.writeUVarIntString('cluster').writeInt32(1);
  e.writeUVarInt(topics.length + 1);
  for (const topic of topics) {
    e.writeInt16(topic.errorCode).writeUVarIntString(topic.name);
    e.writeBufferInternal(topic.id);
    e.writeBoolean(false).writeUVarInt(topic.partitions + 1);
    for (let p = 0; p < topic.partitions; p++) {
      e.writeInt16(0).writeInt32(p).writeInt32(1).writeInt32(0);
      for (let list = 0; list < 3; list++) e.writeUVarInt(2).writeInt32(1);
      e.writeUVarInt(0);
    }
    e.writeInt32(-2147483648).writeUVarInt(0);
  }
  return e.writeUVarInt(0).buffer;
}

describe('topic ids (Metadata v12)', () => {
  it('asks for the topics by name, flexibly encoded after the header’s tagged fields', async () => {
    const { request } = metadataV12Request(['a.raw']);
    expect([request.apiKey, request.apiVersion]).toEqual([3, 12]);
    const bytes = (await request.encode()).buffer;
    // header tags, 1 topic (+1), 16 zero bytes of topic id, name 'a.raw' (+1), topic tags, no auto-creation, no authorised operations, tags
    expect(bytes).toEqual(Buffer.concat([Buffer.from([0, 2]), Buffer.alloc(16), Buffer.from([6]), Buffer.from('a.raw'), Buffer.from([0, 0, 0, 0])]));
  });

  it('reads each topic’s name, error and id from the answer, past brokers and partitions', () => {
    const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(
      decodeMetadataV12(
        response([
          { name: 'a.raw', errorCode: 0, id, partitions: 3 },
          { name: 'gone', errorCode: 3, id: Buffer.alloc(16), partitions: 0 },
        ]),
      ),
    ).toEqual([
      { name: 'a.raw', errorCode: 0, topicId: id },
      { name: 'gone', errorCode: 3, topicId: Buffer.alloc(16) },
    ]);
  });

  it('leaves out a topic the cluster does not know, and fails on any other refusal', async () => {
    const { response: answer } = metadataV12Request(['gone']);
    expect(await answer.parse([{ name: 'gone', errorCode: 3, topicId: Buffer.alloc(16) }])).toHaveLength(1);
    await expect(answer.parse([{ name: 'secret', errorCode: 29, topicId: Buffer.alloc(16) }])).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
  });
});

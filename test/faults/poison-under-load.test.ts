import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import { frame } from '../../src/registry/wire-format.ts';
import { faultRun } from '../support/fault-run.ts';
import { readTopic } from '../support/pipeline.ts';
import { noise } from '../support/example-records.ts';

const GOOD = 20_000;

describe('fault: poison records among good ones under load', () => {
  it('dead-letters each poison record once, with its headers, and writes every good record', async () => {
    const expected = new Map<string, string>();
    const counts = await faultRun({
      scenario: 'poison records among good ones',
      events: GOOD,
      rate: 1_000,
      faults: async ({ t, at }) => {
        const { kafka, registry } = t.connections;
        const producer = kafka.producer({ createPartitioner: javaCompatiblePartitioner });
        await producer.connect();
        const rawId = await registry.registerAvro(`${t.pipeline.topics.raw}-value`, t.pipeline.source.schema);
        const event = (eventId: string, extra: Record<string, unknown> = {}) => ({
          eventId,
          userId: `poison-${eventId}`,
          url: 'https://shop.example/',
          referrer: null,
          userAgent: 'Mozilla/5.0',
          ip: '192.0.2.1',
          ts: Date.now(),
          ...extra,
        });
        for (let round = 0; round < 4; round++) {
          await at(3 + round * 4);
          const poison = [
            { key: `random-${round}`, value: noise(40), reason: 'undecodable' },
            { key: `unknown-${round}`, value: frame(1_999_999_999, randomBytes(8)), reason: 'unknown_schema' },
            { key: `throws-${round}`, value: await registry.encodeAvro(rawId, event(`bad-url-${round}`, { url: '::' })), reason: 'transform_error' },
            { key: `rejected-${round}`, value: await registry.encodeAvro(rawId, event(`${'x'.repeat(300)}${round}`)), reason: 'row_rejected' },
          ];
          await producer.send({ topic: t.pipeline.topics.raw, messages: poison.map(({ key, value }) => ({ key, value })) });
          for (const { key, reason } of poison) expected.set(key, reason);
        }
        await producer.disconnect();
      },
      inspect: async (t) => {
        const letters = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
        const header = (i: number, name: string) => letters[i]!.headers?.[name]?.toString();
        const byOriginal = new Set(
          letters.map((_, i) => `${header(i, 'kelt.original.topic')}:${header(i, 'kelt.original.partition')}:${header(i, 'kelt.original.offset')}`),
        );
        expect(byOriginal.size).toBe(letters.length);
        const reasons = letters.map((_, i) => header(i, 'kelt.reason')).sort();
        expect(reasons).toEqual([...expected.values()].sort());
        letters.forEach((_, i) => {
          expect(header(i, 'kelt.stage')).toMatch(/^(extract|load|transform)$/);
          expect(header(i, 'kelt.error')).toBeTruthy();
        });
      },
    });
    // 2 of 4 poison kinds per round pass extract (they are valid Avro), 1 of those passes load.
    expect(counts).toMatchObject({
      produced: GOOD,
      raw: GOOD + 16,
      extracted: GOOD + 8,
      loaded: GOOD + 4,
      staged: GOOD + 4,
      modeled: GOOD,
      deadLettered: 16,
      duplicates: 0,
      // The transform's dead letters add nothing to the aggregates.
      aggregateMismatches: 0,
    });
  });
});

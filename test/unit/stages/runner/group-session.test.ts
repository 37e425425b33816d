import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import type { BatchProcessor, StageEvents } from '../../../../src/stages/batch-processor.ts';
import { GroupSession } from '../../../../src/stages/runner/group-session.ts';
import { FakeConsumer } from '../../../support/fake-group-consumer.ts';

/** A promise the test resolves when it chooses. */
function gate(): { blocked: Promise<void>; release: () => void } {
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  return { blocked, release };
}

async function sessionWith(processor: Pick<BatchProcessor, 'onAssignment'> = {}) {
  const consumer = new FakeConsumer();
  const events = new EventEmitter<StageEvents>();
  const rebalances: number[][] = [];
  events.on('rebalance', ({ partitions }) => rebalances.push(partitions));
  const session = new GroupSession({
    groupId: 'kelt.p.load',
    inputTopic: 'in',
    sessionTimeoutMs: 10_000,
    consumer: (_groupId, listener) => {
      consumer.listener = listener;
      return consumer;
    },
    processor,
    policy: { initialMs: 1, maxMs: 1 },
    logger: createLogger('silent'),
    events,
  });
  const worked: string[] = [];
  const gates = new Map<string, Promise<void>>();
  await session.start(4, (fetched, controls) =>
    session.inTurn(fetched, controls, async ({ generation }) => {
      const name = `${fetched.partition}@${fetched.records[0]!.offset}`;
      worked.push(`start ${name} g${generation}`);
      await gates.get(name);
      worked.push(`end ${name}`);
    }),
  );
  return { session, consumer, rebalances, worked, gates };
}

describe('GroupSession', () => {
  it('reports a join and runs a partition’s batches one after the other, in the generation they were fetched in', async () => {
    const { consumer, rebalances, worked, gates } = await sessionWith();
    consumer.listener.joined([
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 1 },
    ]);
    const first = gate();
    gates.set('0@0', first.blocked);
    const batches = [consumer.deliver(0, 0, 2), consumer.deliver(0, 2, 2), consumer.deliver(1, 0, 1)];
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(worked).toEqual(['start 0@0 g1', 'start 1@0 g1', 'end 1@0']);
    first.release();
    await Promise.all(batches);
    expect(worked).toEqual(['start 0@0 g1', 'start 1@0 g1', 'end 1@0', 'end 0@0', 'start 0@2 g1', 'end 0@2']);
    expect(rebalances).toEqual([[0, 1]]);
  });

  it('skips a batch whose partition went to another member while it waited for its turn', async () => {
    const { consumer, worked, gates } = await sessionWith();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    const first = gate();
    gates.set('0@0', first.blocked);
    const batches = [consumer.deliver(0, 0, 2), consumer.deliver(0, 2, 2)];
    await new Promise((resolve) => setTimeout(resolve, 5));
    consumer.listener.joined([{ topic: 'in', partition: 1 }]);
    first.release();
    await Promise.all(batches);
    expect(worked).toEqual(['start 0@0 g1', 'end 0@0']);
  });

  it('fails for good, and is not ready, when the work on an assignment fails permanently', async () => {
    const { session, consumer } = await sessionWith({
      onAssignment: async () => {
        throw new ConfigError('the staging table is missing');
      },
    });
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    expect((await session.failed()).message).toBe('the staging table is missing');
    expect(session.faults.ready).toBe(false);
  });
});

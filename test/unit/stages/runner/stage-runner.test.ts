import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import { emptyReport, type BatchProcessor, type PartitionBatch } from '../../../../src/stages/batch-processor.ts';
import { DeadLetterQueue } from '../../../../src/stages/dead-letter.ts';
import { stageRunner } from '../../../../src/stages/stage-runner.ts';
import { FakeConsumer } from '../../../support/fake-group-consumer.ts';
import { kafkaErrors } from '../../../support/kafka-errors.ts';

const { protocol } = kafkaErrors;

const fast = { initialMs: 1, maxMs: 2 };

function runnerWith(processor: BatchProcessor) {
  const consumer = new FakeConsumer();
  const runner = stageRunner({
    groupId: 'kelt.p.transform',
    inputTopic: 'in',
    sessionTimeoutMs: 50,
    deadLetters: new DeadLetterQueue({ topic: 'p.dlq', stage: 'transform' }),
    consumer: (_groupId, listener) => {
      consumer.listener = listener;
      return consumer;
    },
    processor,
    logger: createLogger('silent'),
    retryPolicy: fast,
  });
  return { runner, consumer };
}

const processor = (overrides: Partial<BatchProcessor>): BatchProcessor => ({
  commitsOffsets: false,
  processBatch: async () => emptyReport(),
  close: async () => {},
  ...overrides,
});

/** A promise the test resolves when it chooses (a batch held in flight). */
function gate(): { blocked: Promise<void>; release: () => void } {
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  return { blocked, release };
}

describe('StageRunner', () => {
  it('processes a batch, then resolves and commits past it', async () => {
    const seen: PartitionBatch[] = [];
    const { runner, consumer } = runnerWith(processor({ processBatch: async (batch) => (seen.push(batch), emptyReport()) }));
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    await consumer.deliver(0, 0, 3);
    expect(seen.map((b) => b.nextOffset)).toEqual(['3']);
    expect(consumer.log).toEqual(['resolve 0@2', 'commit 0@3']);
  });

  it('stops retrying the moment a heartbeat says the group moved on, and neither resolves nor commits', async () => {
    let attempts = 0;
    const { runner, consumer } = runnerWith(
      processor({
        processBatch: async () => {
          attempts++;
          throw new TransientError('MySQL down');
        },
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    consumer.heartbeatError = protocol('REBALANCE_IN_PROGRESS');
    await consumer.deliver(0, 0, 3);
    expect(attempts).toBe(1);
    expect(consumer.log).toEqual(['pause in', 'resume in']);
    expect(runner.faults.ready).toBe(true);
  });

  it('stops retrying once no heartbeat has reached the coordinator for a session, though none was refused', async () => {
    let attempts = 0;
    const { runner, consumer } = runnerWith(
      processor({
        processBatch: async () => {
          attempts++;
          throw new TransientError('broker away');
        },
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    consumer.heartbeatError = kafkaErrors.connection('connect ECONNREFUSED');
    const started = Date.now();
    await consumer.deliver(0, 0, 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(attempts).toBeGreaterThan(1);
    expect(consumer.log).toEqual(['pause in', 'resume in']);
  });

  it('skips batches of a partition it no longer owns', async () => {
    let calls = 0;
    const { runner, consumer } = runnerWith(processor({ processBatch: async () => (calls++, emptyReport()) }));
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 1 }]);
    await consumer.deliver(0, 0, 3);
    expect(calls).toBe(0);
  });

  it('retries a transiently failing batch with fetching paused and the stage not ready, then goes on', async () => {
    let failures = 2;
    const readiness: boolean[] = [];
    const { runner, consumer } = runnerWith(
      processor({
        processBatch: async () => {
          readiness.push(runner.faults.ready);
          if (failures-- > 0) throw new TransientError('MySQL down');
          return emptyReport();
        },
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    await consumer.deliver(0, 0, 3);
    expect(readiness).toEqual([true, false, false]);
    expect(runner.faults.ready).toBe(true);
    expect(consumer.log).toEqual(['pause in', 'resume in', 'resolve 0@2', 'commit 0@3']);
  });

  it('waits for the assignment work (retried while MySQL is down) before the first batch, without an unhandled rejection', async () => {
    let failures = 2;
    const order: string[] = [];
    const { runner, consumer } = runnerWith(
      processor({
        onAssignment: async (_owned, seek) => {
          if (failures-- > 0) throw new TransientError('MySQL down');
          seek(0, '7');
          order.push('assigned');
        },
        processBatch: async () => (order.push('batch'), emptyReport()),
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    expect(runner.faults.ready).toBe(false);
    await consumer.deliver(0, 7, 1);
    expect(order).toEqual(['assigned', 'batch']);
    expect(consumer.log).toContain('seek 0@7');
    expect(runner.faults.ready).toBe(true);
  });

  it('commits past commit markers only forward, and a transactional batch waits for such a commit', async () => {
    const { runner, consumer } = runnerWith(processor({ commitsOffsets: true }));
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    await consumer.deliver(0, 0, 3);
    consumer.listener.markersOnly('in', 0, '2');
    consumer.listener.markersOnly('in', 0, '5');
    await consumer.deliver(0, 5, 1);
    expect(consumer.log).toEqual(['resolve 0@2', 'commit 0@5', 'resolve 0@5']);
  });

  it('commits a transactional stage past commit markers through its transactions, in the partition’s turn after the batch in flight', async () => {
    const order: string[] = [];
    const { blocked, release } = gate();
    const { runner, consumer } = runnerWith(
      processor({
        commitsOffsets: true,
        processBatch: async (batch) => {
          order.push(`batch to ${batch.nextOffset}`);
          await blocked;
          return emptyReport();
        },
        commitPast: async (_topic, partition, nextOffset) => void order.push(`past ${partition}@${nextOffset}`),
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    const inFlight = consumer.deliver(0, 0, 3);
    await new Promise((resolve) => setImmediate(resolve));
    consumer.listener.markersOnly('in', 0, '5');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['batch to 3']);
    release();
    await inFlight;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['batch to 3', 'past 0@5']);
    expect(consumer.log).toEqual(['resolve 0@2']);
  });

  it('drops the records an earlier commit settled past, and skips a batch that lies wholly below it', async () => {
    const seen: string[][] = [];
    const floors: Array<bigint | undefined> = [10n, 10n, undefined];
    const { runner, consumer } = runnerWith(
      processor({
        commitsOffsets: true,
        settle: async () => floors.shift(),
        processBatch: async (batch) => (seen.push(batch.messages.map((m) => m.offset)), emptyReport()),
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    await consumer.deliver(0, 0, 4);
    await consumer.deliver(0, 4, 8);
    await consumer.deliver(0, 12, 2);
    expect(seen).toEqual([
      ['10', '11'],
      ['12', '13'],
    ]);
    expect(consumer.log).toEqual(['resolve 0@3', 'resolve 0@11', 'resolve 0@13']);
  });

  it('starts a partition’s batch fetched again only after the one still in flight ends (a consumer restart)', async () => {
    const order: string[] = [];
    const { blocked, release } = gate();
    const { runner, consumer } = runnerWith(
      processor({
        commitsOffsets: true,
        processBatch: async (batch) => {
          order.push(`start ${batch.nextOffset}`);
          if (batch.nextOffset === '3') await blocked;
          order.push(`end ${batch.nextOffset}`);
          return emptyReport();
        },
      }),
    );
    await runner.start();
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    const first = consumer.deliver(0, 0, 3);
    await new Promise((resolve) => setImmediate(resolve));
    consumer.listener.joined([{ topic: 'in', partition: 0 }]);
    const again = consumer.deliver(0, 0, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['start 3']);
    release();
    await Promise.all([first, again]);
    expect(order).toEqual(['start 3', 'end 3', 'start 5', 'end 5']);
  });
});

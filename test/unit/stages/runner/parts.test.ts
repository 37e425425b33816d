import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import { kafkaErrors } from '../../../support/kafka-errors.ts';
import { GroupMembership } from '../../../../src/stages/runner/group-membership.ts';
import { FaultTracker } from '../../../../src/stages/runner/fault-tracker.ts';
import { OffsetCommitter } from '../../../../src/stages/runner/offset-committer.ts';
import { PauseController } from '../../../../src/stages/runner/pause-controller.ts';

const logger = createLogger('silent');

describe('PauseController', () => {
  const switchboard = () => {
    const calls: string[] = [];
    return { calls, fetch: { pause: (t: string) => calls.push(`pause ${t}`), resume: (t: string) => calls.push(`resume ${t}`) } };
  };

  it('a fault and backpressure never resume each other', () => {
    const { calls, fetch } = switchboard();
    const pauses = new PauseController(fetch);
    const fault = pauses.hold('in', 'fault in:0');
    const backpressure = pauses.hold('in', 'backpressure');
    fault();
    expect(calls).toEqual(['pause in']);
    expect(pauses.reasons('in')).toEqual(['backpressure']);
    backpressure();
    expect(calls).toEqual(['pause in', 'resume in']);
  });

  it('counts holds of one reason, and a release twice counts once', () => {
    const { calls, fetch } = switchboard();
    const pauses = new PauseController(fetch);
    const a = pauses.hold('in', 'backpressure');
    const b = pauses.hold('in', 'backpressure');
    a();
    a();
    expect(calls).toEqual(['pause in']);
    b();
    expect(calls).toEqual(['pause in', 'resume in']);
  });
});

describe('OffsetCommitter', () => {
  const recorder = () => {
    const commits: string[] = [];
    let gate: Promise<void> = Promise.resolve();
    return {
      commits,
      hold(until: Promise<void>) {
        gate = until;
      },
      commit: async (topic: string, partition: number, offset: string) => {
        await gate;
        commits.push(`${topic}[${partition}]@${offset}`);
      },
    };
  };

  it('commits only forward: a commit below one already made, in a transaction or not, is skipped', async () => {
    const r = recorder();
    const committer = new OffsetCommitter(r.commit, logger);
    committer.joined(1);
    expect(await committer.commit('in', 0, '10', 1)).toBe(true);
    expect(await committer.commit('in', 0, '8', 1)).toBe(false);
    committer.committedInTransaction('in', 0, '20');
    expect(await committer.commit('in', 0, '15', 1)).toBe(false);
    expect(await committer.commit('in', 0, '21', 1)).toBe(true);
    expect(r.commits).toEqual(['in[0]@10', 'in[0]@21']);
  });

  it('runs a partition’s commits one after another, so a late one cannot overtake', async () => {
    const r = recorder();
    let open!: () => void;
    r.hold(new Promise((resolve) => (open = resolve)));
    const committer = new OffsetCommitter(r.commit, logger);
    committer.joined(1);
    const first = committer.commit('in', 0, '10', 1);
    const second = committer.commit('in', 0, '5', 1);
    let settled = false;
    const waiting = committer.settled('in', 0).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    open();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
    await waiting;
    expect(r.commits).toEqual(['in[0]@10']);
  });

  it('drops commits asked for under an older generation', async () => {
    const r = recorder();
    const committer = new OffsetCommitter(r.commit, logger);
    committer.joined(1);
    committer.joined(2);
    expect(await committer.commit('in', 0, '10', 1)).toBe(false);
    expect(r.commits).toEqual([]);
  });

  it('passes a failed commit to its caller and lets the next one through', async () => {
    let fail = true;
    const commits: string[] = [];
    const committer = new OffsetCommitter(async (_t, _p, offset) => {
      if (fail) throw new Error('broker away');
      commits.push(offset);
    }, logger);
    committer.joined(1);
    await expect(committer.commit('in', 0, '10', 1)).rejects.toThrow('broker away');
    fail = false;
    expect(await committer.commit('in', 0, '10', 1)).toBe(true);
    expect(commits).toEqual(['10']);
  });
});

describe('OffsetCommitter with a batch', () => {
  const batch = (from: number, count: number) => ({
    topic: 'in',
    partition: 0,
    messages: Array.from({ length: count }, (_, i) => ({ key: null, value: null, offset: String(from + i), timestamp: '0' })),
    nextOffset: String(from + count),
  });

  it('keeps the records at or past the settled offset, none when the batch lies below it, all when nothing is settled', async () => {
    const committer = new OffsetCommitter(async () => undefined, logger);
    expect((await committer.uncommitted(batch(0, 5), async () => 3n))?.messages.map((m) => m.offset)).toEqual(['3', '4']);
    expect(await committer.uncommitted(batch(0, 5), async () => 9n)).toBeUndefined();
    expect((await committer.uncommitted(batch(0, 5), async () => undefined))?.messages).toHaveLength(5);
    expect((await committer.uncommitted(batch(0, 5), undefined))?.messages).toHaveLength(5);
  });

  it('commits a finished batch unless its transaction did, and takes a rebalance’s refusal as moot', async () => {
    const commits: string[] = [];
    let refuse: Error | undefined;
    const committer = new OffsetCommitter(async (_topic, partition, offset) => {
      if (refuse !== undefined) throw refuse;
      commits.push(`${partition}@${offset}`);
    }, logger);
    committer.joined(1);
    await committer.batchDone(batch(0, 3), 1, false);
    await committer.batchDone(batch(3, 3), 1, true);
    await committer.batchDone(batch(3, 2), 1, false);
    expect(commits).toEqual(['0@3']);
    refuse = kafkaErrors.protocol('REBALANCE_IN_PROGRESS');
    await committer.batchDone(batch(6, 2), 1, false);
    refuse = new Error('a bug');
    await expect(committer.batchDone(batch(8, 2), 1, false)).rejects.toThrow('a bug');
  });
});

describe('FaultTracker', () => {
  it('is alive while signs of life come, dead after a silence, alive through a known fault', () => {
    let now = 0;
    const faults = new FaultTracker(() => now);
    now = 50_000;
    expect(faults.alive(60_000).alive).toBe(true);
    now = 61_000;
    expect(faults.alive(60_000)).toEqual({ alive: false, reason: 'consumer loop silent for 61s' });
    faults.fault('consumer', 'consumer restarting');
    now = 500_000;
    expect(faults.alive(60_000).alive).toBe(true);
    faults.recovered('consumer');
    now = 550_000;
    expect(faults.alive(60_000).alive).toBe(true);
    faults.crashed(new Error('gave up'));
    expect(faults.alive(60_000)).toEqual({ alive: false, reason: 'consumer crashed: gave up' });
    expect(faults.ready).toBe(false);
  });

  it('is ready once started and while nothing fails, naming each distinct reason otherwise', () => {
    const faults = new FaultTracker(() => 0);
    expect(faults.reasons).toEqual(['not started']);
    faults.markStarted();
    expect(faults.ready).toBe(true);
    faults.fault('in:0', 'MySQL down');
    faults.fault('in:1', 'MySQL down');
    faults.fault('assignment', 'reading positions');
    expect(faults.ready).toBe(false);
    expect(faults.reasons).toEqual(['MySQL down', 'reading positions']);
    faults.recovered('in:0');
    faults.recovered('in:1');
    faults.recovered('assignment');
    expect(faults.ready).toBe(true);
  });
});

describe('GroupMembership', () => {
  const noWait = async () => undefined;
  const policy = { initialMs: 1, maxMs: 2 };

  it('owns partitions only in the generation it joined with', () => {
    const membership = new GroupMembership({
      hooks: { onAssigned: async () => {}, onAssignmentFault: () => {}, onAssignmentDone: () => {}, onAssignmentFailed: () => {} },
      policy,
      logger,
      wait: noWait,
    });
    const generation = membership.joined([{ topic: 'in', partition: 0 }]);
    expect(membership.owns({ topic: 'in', partition: 0 }, generation)).toBe(true);
    expect(membership.owns({ topic: 'in', partition: 1 }, generation)).toBe(false);
    membership.lost();
    expect(membership.owns({ topic: 'in', partition: 0 }, generation)).toBe(false);
    const next = membership.joined([{ topic: 'in', partition: 0 }]);
    expect(membership.owns({ topic: 'in', partition: 0 }, generation)).toBe(false);
    expect(membership.owns({ topic: 'in', partition: 0 }, next)).toBe(true);
  });

  it('owns its partitions again, in a new generation and after the assignment work, when a heartbeat goes through after it was taken for lost', async () => {
    const assigned: number[][] = [];
    const membership = new GroupMembership({
      hooks: {
        onAssigned: async (owned) => void assigned.push(owned.map((p) => p.partition)),
        onAssignmentFault: () => {},
        onAssignmentDone: () => {},
        onAssignmentFailed: () => {},
      },
      policy,
      logger,
      wait: noWait,
    });
    expect(membership.confirmed()).toBe(false);
    const first = membership.joined([
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 3 },
    ]);
    membership.lost();
    const lostIn = membership.generation;
    expect(membership.owns({ topic: 'in', partition: 3 }, lostIn)).toBe(false);
    expect(membership.confirmed()).toBe(true);
    await membership.ready();
    const again = membership.generation;
    expect([again > lostIn, membership.owns({ topic: 'in', partition: 3 }, again), membership.owns({ topic: 'in', partition: 3 }, first)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(assigned).toEqual([
      [0, 3],
      [0, 3],
    ]);
    // A join in between wins: what was owned before the loss is not restored over it.
    membership.lost();
    membership.joined([{ topic: 'in', partition: 1 }]);
    expect(membership.confirmed()).toBe(false);
  });

  it('retries the assignment work while it fails transiently, reporting the fault, and batches wait for it', async () => {
    const events: string[] = [];
    let failures = 2;
    const membership = new GroupMembership({
      hooks: {
        onAssigned: async () => {
          if (failures-- > 0) throw new TransientError('MySQL down');
          events.push('assigned');
        },
        onAssignmentFault: (error) => events.push(`fault: ${(error as Error).message}`),
        onAssignmentDone: () => events.push('recovered'),
        onAssignmentFailed: () => events.push('failed'),
      },
      policy,
      logger,
      wait: noWait,
    });
    membership.joined([{ topic: 'in', partition: 0 }]);
    await membership.ready();
    expect(events).toEqual(['fault: MySQL down', 'fault: MySQL down', 'assigned', 'recovered']);
  });

  it('hands a permanent failure of the assignment work to its hook instead of rejecting unhandled', async () => {
    const failed: unknown[] = [];
    const membership = new GroupMembership({
      hooks: {
        onAssigned: async () => {
          throw new PermanentError('no such table');
        },
        onAssignmentFault: () => {},
        onAssignmentDone: () => {},
        onAssignmentFailed: (error) => failed.push(error),
      },
      policy,
      logger,
      wait: noWait,
    });
    membership.joined([{ topic: 'in', partition: 0 }]);
    await expect(membership.ready()).resolves.toBeUndefined();
    expect(failed).toHaveLength(1);
  });

  it('gives up an assignment’s retries when a newer join supersedes it', async () => {
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const membership = new GroupMembership({
      hooks: {
        onAssigned: async (owned) => {
          seen.push(owned[0]!.partition);
          if (owned[0]!.partition === 0) throw new TransientError('MySQL down');
        },
        onAssignmentFault: () => {},
        onAssignmentDone: () => {},
        onAssignmentFailed: () => {},
      },
      policy,
      logger,
      wait: () => gate,
    });
    membership.joined([{ topic: 'in', partition: 0 }]);
    membership.joined([{ topic: 'in', partition: 1 }]);
    release();
    await membership.ready();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([0, 1]);
  });
});

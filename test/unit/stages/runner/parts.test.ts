import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import { GroupMembership } from '../../../../src/stages/runner/group-membership.ts';
import { Liveness } from '../../../../src/stages/runner/liveness.ts';
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

describe('Liveness', () => {
  it('is alive while signs of life come, dead after a silence, alive through a known outage', () => {
    let now = 0;
    const liveness = new Liveness(() => now);
    now = 50_000;
    expect(liveness.state(60_000).alive).toBe(true);
    now = 61_000;
    expect(liveness.state(60_000)).toEqual({ alive: false, reason: 'consumer loop silent for 61s' });
    liveness.outage('consumer');
    now = 500_000;
    expect(liveness.state(60_000).alive).toBe(true);
    liveness.recovered('consumer');
    now = 550_000;
    expect(liveness.state(60_000).alive).toBe(true);
    liveness.crashed(new Error('gave up'));
    expect(liveness.state(60_000)).toEqual({ alive: false, reason: 'consumer crashed: gave up' });
  });
});

describe('GroupMembership', () => {
  const noWait = async () => undefined;
  const policy = { initialMs: 1, maxMs: 2 };

  it('owns partitions only in the generation it joined with', () => {
    const membership = new GroupMembership(
      { onAssigned: async () => {}, onAssignmentFault: () => {}, onAssignmentDone: () => {}, onAssignmentFailed: () => {} },
      policy,
      logger,
      noWait,
    );
    const generation = membership.joined([{ topic: 'in', partition: 0 }]);
    expect(membership.owns({ topic: 'in', partition: 0 }, generation)).toBe(true);
    expect(membership.owns({ topic: 'in', partition: 1 }, generation)).toBe(false);
    membership.lost();
    expect(membership.owns({ topic: 'in', partition: 0 }, generation)).toBe(false);
    const next = membership.joined([{ topic: 'in', partition: 0 }]);
    expect(membership.owns({ topic: 'in', partition: 0 }, generation)).toBe(false);
    expect(membership.owns({ topic: 'in', partition: 0 }, next)).toBe(true);
  });

  it('retries the assignment work while it fails transiently, reporting the fault, and batches wait for it', async () => {
    const events: string[] = [];
    let failures = 2;
    const membership = new GroupMembership(
      {
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
      noWait,
    );
    membership.joined([{ topic: 'in', partition: 0 }]);
    await membership.ready();
    expect(events).toEqual(['fault: MySQL down', 'fault: MySQL down', 'assigned', 'recovered']);
  });

  it('hands a permanent failure of the assignment work to its hook instead of rejecting unhandled', async () => {
    const failed: unknown[] = [];
    const membership = new GroupMembership(
      {
        onAssigned: async () => {
          throw new PermanentError('no such table');
        },
        onAssignmentFault: () => {},
        onAssignmentDone: () => {},
        onAssignmentFailed: (error) => failed.push(error),
      },
      policy,
      logger,
      noWait,
    );
    membership.joined([{ topic: 'in', partition: 0 }]);
    await expect(membership.ready()).resolves.toBeUndefined();
    expect(failed).toHaveLength(1);
  });

  it('gives up an assignment’s retries when a newer join supersedes it', async () => {
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const membership = new GroupMembership(
      {
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
      () => gate,
    );
    membership.joined([{ topic: 'in', partition: 0 }]);
    membership.joined([{ topic: 'in', partition: 1 }]);
    release();
    await membership.ready();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([0, 1]);
  });
});

import { describe, expect, it } from 'vitest';
import { StaleBatchError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import { Heartbeats, type Clock } from '../../../../src/stages/runner/heartbeats.ts';
import { kafkaErrors } from '../../../support/kafka-errors.ts';
import { steppedClock } from '../../../support/stepped-clock.ts';

function heartbeats(clock: Clock) {
  let lost = 0;
  const beats = new Heartbeats({ sessionTimeoutMs: 10_000, lost: () => lost++, logger: createLogger('silent'), clock });
  return { beats, lost: () => lost };
}

describe('Heartbeats', () => {
  it('refused by a rebalance: the member is lost and the batch stale', async () => {
    const { beats, lost } = heartbeats(steppedClock());
    await expect(beats.beat(async () => Promise.reject(kafkaErrors.protocol('REBALANCE_IN_PROGRESS')))).rejects.toBeInstanceOf(StaleBatchError);
    expect(lost()).toBe(1);
  });

  it('a failing heartbeat is the caller’s to retry until the session has passed unheard, then the member is lost', async () => {
    const clock = steppedClock();
    const { beats, lost } = heartbeats(clock);
    const away = async () => Promise.reject(kafkaErrors.connection('connect ECONNREFUSED'));
    clock.at = 9_000;
    await expect(beats.beat(away)).rejects.toThrow('ECONNREFUSED');
    expect(lost()).toBe(0);
    clock.at = 10_001;
    await expect(beats.beat(away)).rejects.toBeInstanceOf(StaleBatchError);
    expect(lost()).toBe(1);
  });

  it('an accepted heartbeat restarts the session’s clock', async () => {
    const clock = steppedClock();
    const { beats, lost } = heartbeats(clock);
    clock.at = 9_000;
    await beats.beat(async () => undefined);
    clock.at = 18_000;
    await expect(beats.beat(async () => Promise.reject(kafkaErrors.connection('gone')))).rejects.toThrow('gone');
    expect(lost()).toBe(0);
  });

  it('heartbeats once a second through a timed wait, through failures the session outlasts', async () => {
    const clock = steppedClock();
    const { beats } = heartbeats(clock);
    let sent = 0;
    expect(await beats.waitBeating(5_500, async () => void sent++)).toBe(true);
    expect(sent).toBe(6);
    expect(clock.at).toBe(5_500);
    let failed = 0;
    expect(await beats.waitBeating(3_000, async () => Promise.reject((failed++, kafkaErrors.connection('away'))))).toBe(true);
    expect(failed).toBe(3);
  });

  it('heartbeats once even in a wait that is over before it starts (a retry is never made without asking)', async () => {
    const { beats } = heartbeats(steppedClock());
    let sent = 0;
    expect(await beats.waitBeating(0, async () => void sent++)).toBe(true);
    expect(sent).toBe(1);
    expect(await beats.waitBeating(-5, async () => Promise.reject(kafkaErrors.protocol('REBALANCE_IN_PROGRESS')))).toBe(false);
  });

  it('a wait ends as soon as its promise settles, or false once the group moved on', async () => {
    const clock = steppedClock();
    const { beats } = heartbeats(clock);
    let sent = 0;
    expect(await beats.waitBeating(Promise.resolve(), async () => void sent++)).toBe(true);
    expect(sent).toBe(0);
    const never = new Promise(() => undefined);
    const rebalancing = async () => {
      if (++sent === 3) throw kafkaErrors.protocol('REBALANCE_IN_PROGRESS');
    };
    expect(await beats.waitBeating(never, rebalancing)).toBe(false);
    expect(sent).toBe(3);
    expect(clock.at).toBe(4_000);
  });

  it('a wait stops early once `going` turns false', async () => {
    const clock = steppedClock();
    const { beats } = heartbeats(clock);
    let sent = 0;
    expect(
      await beats.waitBeating(
        60_000,
        async () => void sent++,
        () => sent < 2,
      ),
    ).toBe(true);
    expect(sent).toBe(2);
  });
});

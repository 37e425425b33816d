import type { Clock } from '../../src/stages/runner/heartbeats.ts';

/**
 * A clock the test moves: each sleep advances it at once by what was asked,
 * then yields to the event loop (a wait that spins on it must not starve the
 * test's own timers).
 */
export function steppedClock(): Clock & { at: number } {
  const clock = {
    at: 0,
    now: () => clock.at,
    sleep: async (ms: number) => {
      clock.at += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
  return clock;
}

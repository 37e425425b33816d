import { setTimeout as sleep } from 'node:timers/promises';
import { StaleBatchError } from '../../errors.ts';
import { isRebalanceError } from '../../kafka/errors.ts';
import type { Logger } from '../../log/logger.ts';

/** Time as the heartbeats see it; tests hand in one they move themselves. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: async (ms) => void (await sleep(ms)) };

/** Sends one heartbeat to the group coordinator (the consumer's, for the batch in hand). */
export type SendHeartbeat = () => Promise<void>;

export interface HeartbeatsOptions {
  /** The group's session timeout: unheard for longer, the member has been removed. */
  sessionTimeoutMs: number;
  /** Called when a heartbeat shows that the group moved on without this member. */
  lost: () => void;
  logger: Logger;
  clock?: Clock;
  /** How often a wait heartbeats (default 1 s, well inside kafkajs's 3 s interval). */
  intervalMs?: number;
}

/**
 * A member's heartbeats while it works or waits: the one clock of when the
 * coordinator last heard it, and the one loop that heartbeats through a wait
 * (for the assignment's work, the partition's previous batch, a retry's
 * backoff), so that a long outage does not cost the member its partitions.
 */
export class Heartbeats {
  private readonly options: HeartbeatsOptions;
  private readonly clock: Clock;
  private lastHeard: number;

  constructor(options: HeartbeatsOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.lastHeard = this.clock.now();
  }

  /** The coordinator accepted a heartbeat, or the member (re)joined. */
  heard(): void {
    this.lastHeard = this.clock.now();
  }

  /**
   * Heartbeats for a processor. A refused heartbeat means the group has moved
   * on; so does silence longer than the session, whether or not the
   * coordinator can say so: the member owns nothing until it rejoins, and its
   * partitions may be another member's, which its retries must not fence.
   * Both end the batch with a StaleBatchError.
   */
  async beat(send: SendHeartbeat): Promise<void> {
    try {
      await send();
      this.heard();
    } catch (error) {
      if (isRebalanceError(error)) {
        this.options.lost();
        throw new StaleBatchError('the group is rebalancing; this member’s partitions are revoked', { cause: error });
      }
      if (this.clock.now() - this.lastHeard > this.options.sessionTimeoutMs) {
        this.options.lost();
        throw new StaleBatchError('no heartbeat reached the group coordinator within the session timeout', { cause: error });
      }
      throw error;
    }
  }

  /**
   * Heartbeats until `until` settles (a promise) or passes (a number of
   * milliseconds), or `going` turns false. False when the group moved on
   * during the wait. A heartbeat that fails otherwise (the coordinator is
   * away too) is tried again next time: the session may outlast the outage.
   */
  async waitBeating(until: Promise<unknown> | number, send: SendHeartbeat, going: () => boolean = () => true): Promise<boolean> {
    const deadline = typeof until === 'number' ? this.clock.now() + until : Number.POSITIVE_INFINITY;
    let done = false;
    const finished = typeof until === 'number' ? new Promise<never>(() => undefined) : until.then(() => (done = true));
    const interval = this.options.intervalMs ?? 1_000;
    // Every wait heartbeats at least once, however short (a retry's first
    // backoff can be over before the loop starts on a busy machine): a batch
    // is never retried without asking the coordinator whether it is still ours.
    while (!done && going()) {
      const left = deadline - this.clock.now();
      if (left > 0) await Promise.race([finished, this.clock.sleep(Math.min(interval, left))]);
      if (done) break;
      try {
        await this.beat(send);
      } catch (error) {
        if (error instanceof StaleBatchError) return false;
        this.options.logger.debug({ err: error }, 'heartbeat failed while waiting');
      }
      if (this.clock.now() >= deadline) break;
    }
    return true;
  }
}

/**
 * Whether a stage's consumer loop is alive, for `/healthz`. A loop that is
 * waiting out a dependency's outage (a batch retrying with backoff, the
 * client reconnecting after a retriable crash) is alive: restarting the pod
 * would not bring the broker or the database back, and would cost the group
 * a rebalance. Dead means crashed for good, or silent for too long while
 * nothing is known to be failing.
 */
export class Liveness {
  private readonly now: () => number;
  private lastSign: number;
  private crashedFor: Error | undefined;
  private readonly outages = new Set<string>();

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
    this.lastSign = now();
  }

  /** The loop showed life: a fetch, a heartbeat, a join, a finished batch, a retry attempt. */
  sign(): void {
    this.lastSign = this.now();
  }

  /** A dependency is failing and the loop waits for it (named by `key` until `recovered`). */
  outage(key: string): void {
    this.outages.add(key);
    this.sign();
  }

  recovered(key: string): void {
    this.outages.delete(key);
    this.sign();
  }

  /** The client gave up for good. */
  crashed(error: Error): void {
    this.crashedFor = error;
  }

  state(withinMs: number): { alive: boolean; reason?: string } {
    if (this.crashedFor !== undefined) return { alive: false, reason: `consumer crashed: ${this.crashedFor.message}` };
    if (this.outages.size > 0) return { alive: true };
    const quietMs = this.now() - this.lastSign;
    if (quietMs > withinMs) return { alive: false, reason: `consumer loop silent for ${Math.round(quietMs / 1000)}s` };
    return { alive: true };
  }
}

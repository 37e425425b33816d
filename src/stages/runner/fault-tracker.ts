/**
 * What is failing in a stage, read two ways. Ready (`/readyz`): the member
 * has joined its group and nothing is failing. Alive (`/healthz`): not
 * crashed for good, and the consumer loop either showed life lately or is
 * known to be waiting out a fault — a loop retrying while the broker or the
 * database is away is alive, since restarting the pod would not bring them
 * back and would cost the group a rebalance.
 */
export class FaultTracker {
  private readonly now: () => number;
  private started = false;
  private lastSign: number;
  private crashedFor: Error | undefined;
  private readonly faults = new Map<string, string>();

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
    this.lastSign = now();
  }

  /** The member joined its group. */
  markStarted(): void {
    this.started = true;
    this.sign();
  }

  /** The loop showed life: a fetch, a heartbeat, a join, a finished batch. */
  sign(): void {
    this.lastSign = this.now();
  }

  /** Something is failing and the loop waits for it; `key` names it until `recovered`. */
  fault(key: string, reason: string): void {
    this.faults.set(key, reason);
    this.sign();
  }

  recovered(key: string): void {
    this.faults.delete(key);
    this.sign();
  }

  /** The stage gave up for good. */
  crashed(error: Error): void {
    this.crashedFor = error;
  }

  get ready(): boolean {
    return this.started && this.faults.size === 0 && this.crashedFor === undefined;
  }

  /** Why the stage is not ready, for logs and /readyz. */
  get reasons(): string[] {
    if (this.crashedFor !== undefined) return [`crashed: ${this.crashedFor.message}`];
    return this.started ? [...new Set(this.faults.values())] : ['not started'];
  }

  alive(withinMs: number): { alive: boolean; reason?: string } {
    if (this.crashedFor !== undefined) return { alive: false, reason: `consumer crashed: ${this.crashedFor.message}` };
    if (this.faults.size > 0) return { alive: true };
    const quietMs = this.now() - this.lastSign;
    if (quietMs > withinMs) return { alive: false, reason: `consumer loop silent for ${Math.round(quietMs / 1000)}s` };
    return { alive: true };
  }
}

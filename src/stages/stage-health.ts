/**
 * Whether a stage can do its work. It is not ready until its consumer has
 * joined the group, and while a dependency fails (the stage then pauses
 * fetching and retries); `/readyz` reports it.
 */
export class StageHealth {
  private started = false;
  private readonly faults = new Map<string, string>();

  markStarted(): void {
    this.started = true;
  }

  /** A batch is failing transiently; `key` names it until it recovers. */
  fault(key: string, reason: string): void {
    this.faults.set(key, reason);
  }

  recovered(key: string): void {
    this.faults.delete(key);
  }

  get failing(): number {
    return this.faults.size;
  }

  get ready(): boolean {
    return this.started && this.faults.size === 0;
  }

  /** Why the stage is not ready, for logs and /readyz. */
  get reasons(): string[] {
    return this.started ? [...new Set(this.faults.values())] : ['not started'];
  }
}

/** What the pause controller switches: fetching of a whole topic. */
export interface FetchSwitch {
  pause(topic: string): void;
  resume(topic: string): void;
}

/**
 * Fetching is paused for several reasons at once (a batch failing on a
 * fault, the worker pool saturated), each held and released on its own.
 * Fetching resumes only when no reason holds any more, so that a fault's
 * recovery never resumes a saturated pool's pause, nor the other way round.
 */
export class PauseController {
  private readonly fetch: FetchSwitch;
  private readonly holds = new Map<string, Map<string, number>>();

  constructor(fetch: FetchSwitch) {
    this.fetch = fetch;
  }

  /** Pauses `topic` for `reason` until the returned release is called (once; later calls do nothing). */
  hold(topic: string, reason: string): () => void {
    const reasons = this.holds.get(topic) ?? new Map<string, number>();
    this.holds.set(topic, reasons);
    const before = this.total(topic);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (before === 0) this.fetch.pause(topic);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (reasons.get(reason) ?? 1) - 1;
      if (left === 0) reasons.delete(reason);
      else reasons.set(reason, left);
      if (this.total(topic) === 0) this.fetch.resume(topic);
    };
  }

  /** Why `topic` is paused; empty when it is not. */
  reasons(topic: string): string[] {
    return [...(this.holds.get(topic)?.keys() ?? [])];
  }

  private total(topic: string): number {
    let total = 0;
    for (const count of this.holds.get(topic)?.values() ?? []) total += count;
    return total;
  }
}

/**
 * How many batches a member processes at once: a batch that has its
 * partition's turn waits here for a slot, in the order it asked. Turns keep
 * each partition's order; slots bound the work in flight across partitions
 * (MySQL connections, worker tasks, open transactions).
 */
export class ProcessingSlots {
  private readonly size: number;
  private readonly waiting: Array<() => void> = [];
  private active = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** Resolves with the slot's release (call it exactly once) when a slot is free. */
  acquire(): Promise<() => void> {
    const release = () => {
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    };
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) => this.waiting.push(() => resolve(release)));
  }
}

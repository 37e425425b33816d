/**
 * One batch of a partition at a time, across rejoins and consumer restarts.
 * kafkajs hands out one batch per partition at a time only within one run of
 * its fetch loop: when its consumer crashes and restarts (a broker lost
 * mid-fetch), or a rebalance interrupts the loop, the batches in flight keep
 * running while the partitions are fetched again from the group's offset.
 * Without turns, an old batch still retrying and a new one of the same
 * records could both commit.
 */
export class PartitionTurns {
  private readonly last = new Map<string, Promise<void>>();

  /**
   * Takes the partition's next turn: `previous` resolves once every earlier
   * turn has ended; `end` ends this one (call it exactly once, whatever
   * happens). A turn ended early (its batch given up while waiting) still
   * keeps later turns behind the earlier ones.
   */
  take(topic: string, partition: number): { previous: Promise<void>; end: () => void } {
    const key = `${topic}:${partition}`;
    const previous = this.last.get(key) ?? Promise.resolve();
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const done = Promise.all([previous, ended]).then(() => undefined);
    this.last.set(key, done);
    void done.then(() => {
      if (this.last.get(key) === done) this.last.delete(key);
    });
    return { previous, end };
  }
}

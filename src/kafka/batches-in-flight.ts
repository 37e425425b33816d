/** What BatchesInFlight is told to do as it fills and empties. */
export interface BatchesInFlightOptions {
  /** Bytes of fetched records held (waiting or in process) past which fetching pauses. */
  maxBytes: number;
  /** Stop fetching: too many bytes are held. */
  pause(): void;
  /** Fetch again: the held bytes fell below half of `maxBytes`. */
  resume(): void;
  /** A batch's work failed: the consumer cannot go on without it. */
  failed(error: unknown): void;
}

/**
 * The fetched batches a member holds while the client fetches the next: a
 * batch's work starts at once, when it is taken in (so the client's next
 * fetch does not wait for the slowest batch of the last one, and the work
 * takes its place in its partition's order before anything fetched later,
 * commit markers included), while the bytes held stay under a bound (so
 * memory follows a setting, not the partition count times the fetch size).
 * How many batches run at once, and in which order, is the work's concern
 * (the runner's partition turns and processing slots).
 */
export class BatchesInFlight {
  private readonly options: BatchesInFlightOptions;
  private readonly running = new Set<Promise<void>>();
  private held = 0;
  private paused = false;

  constructor(options: BatchesInFlightOptions) {
    this.options = options;
  }

  /** Bytes of the batches taken in and not done. */
  get bytes(): number {
    return this.held;
  }

  /** Takes a batch of `bytes` in and starts `work` (synchronously: its first step runs before add returns). */
  add(bytes: number, work: () => Promise<void>): void {
    this.held += bytes;
    if (!this.paused && this.held > this.options.maxBytes) {
      this.paused = true;
      this.options.pause();
    }
    const done = work()
      .catch((error: unknown) => this.options.failed(error))
      .finally(() => {
        this.held -= bytes;
        if (this.paused && this.held <= this.options.maxBytes / 2) {
          this.paused = false;
          this.options.resume();
        }
        this.running.delete(done);
      });
    this.running.add(done);
  }

  /** Resolves once every batch taken in so far is done. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}

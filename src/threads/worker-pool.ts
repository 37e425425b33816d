import { EventEmitter, once } from 'node:events';
import { Piscina } from 'piscina';

export interface WorkerPoolOptions {
  /** The worker entry point (a module whose default export runs one task). */
  file: URL;
  threads: number;
  /** Queued tasks at which the pool is saturated (the consumer pauses fetching). */
  maxQueue: number;
  /** Each worker's heap limit (a worker past it dies, and its task fails with ERR_WORKER_OUT_OF_MEMORY). */
  memoryMb?: number | undefined;
}

/**
 * A Piscina pool with kelt's backpressure rule: the pool is saturated when its
 * queue holds `maxQueue` tasks; the consumer then pauses fetching and resumes
 * once the queue has drained.
 */
export class WorkerPool<Task, Result> {
  private readonly piscina: Piscina<Task, Result>;
  readonly threads: number;
  readonly maxQueue: number;
  /** `task`: a task finished (or failed) after `seconds` in the queue and on a thread. */
  readonly events = new EventEmitter<{ task: [seconds: number] }>();

  constructor({ file, threads, maxQueue, memoryMb }: WorkerPoolOptions) {
    this.threads = threads;
    this.maxQueue = maxQueue;
    this.piscina = new Piscina<Task, Result>({
      filename: file.href,
      minThreads: threads,
      maxThreads: threads,
      ...(memoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: memoryMb } }),
      // Our own threshold decides when to pause; Piscina must never reject a task.
      maxQueue: Number.POSITIVE_INFINITY,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  /**
   * Runs a task; the buffers in `transfer` move to the worker (the caller
   * must not use them again). Aborting `signal` terminates the worker running
   * it (Piscina starts another) and rejects with an AbortError.
   */
  async run(task: Task, transfer: ArrayBuffer[] = [], signal?: AbortSignal): Promise<Result> {
    const started = performance.now();
    try {
      return await this.piscina.run(task, { transferList: transfer, ...(signal === undefined ? {} : { signal }) });
    } finally {
      this.events.emit('task', (performance.now() - started) / 1000);
    }
  }

  get queueSize(): number {
    return this.piscina.queueSize;
  }

  get saturated(): boolean {
    return this.piscina.queueSize >= this.maxQueue;
  }

  /**
   * Resolves when the queue is empty (at once if it is). Piscina's own
   * 'drain' event cannot tell: it fires when the workers' usage falls below
   * their capacity, and a worker running an abortable task (every transform
   * task, see watched-chunk.ts) counts as infinitely used, so with one
   * running it never fires (piscina 5.3). Each finished task is checked instead.
   */
  async drained(): Promise<void> {
    while (this.piscina.queueSize > 0) await once(this.events, 'task');
  }

  /** Thread-seconds spent running tasks since the pool started (its rate over threads is the utilisation). */
  get busySeconds(): number {
    return (this.piscina.utilization * this.piscina.duration * this.threads) / 1000;
  }

  close(): Promise<void> {
    return this.piscina.close();
  }
}

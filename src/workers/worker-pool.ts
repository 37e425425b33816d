import { once } from 'node:events';
import { Piscina } from 'piscina';

/**
 * A Piscina pool with kelt's backpressure rule: the pool is saturated when its
 * queue holds `maxQueue` tasks; the consumer then pauses fetching and resumes
 * once the queue has drained.
 */
export class WorkerPool<Task, Result> {
  private readonly piscina: Piscina<Task, Result>;
  readonly threads: number;
  readonly maxQueue: number;

  constructor(filename: URL, threads: number, maxQueue: number) {
    this.threads = threads;
    this.maxQueue = maxQueue;
    this.piscina = new Piscina<Task, Result>({
      filename: filename.href,
      minThreads: threads,
      maxThreads: threads,
      // Our own threshold decides when to pause; Piscina must never reject a task.
      maxQueue: Number.POSITIVE_INFINITY,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  run(task: Task): Promise<Result> {
    return this.piscina.run(task);
  }

  get queueSize(): number {
    return this.piscina.queueSize;
  }

  get saturated(): boolean {
    return this.piscina.queueSize >= this.maxQueue;
  }

  /** Resolves when the queue is empty (at once if it is). */
  async drained(): Promise<void> {
    if (this.piscina.queueSize === 0) return;
    await once(this.piscina, 'drain');
  }

  /** Fraction of the pool's threads' time spent running tasks, 0..1. */
  get utilization(): number {
    return this.piscina.utilization;
  }

  close(): Promise<void> {
    return this.piscina.close();
  }
}

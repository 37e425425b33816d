import type { Logger } from '../../log/logger.ts';
import type { PauseController } from './pause-controller.ts';

/** What backpressure needs of a worker pool. */
export interface SaturablePool {
  readonly saturated: boolean;
  readonly queueSize: number;
  drained(): Promise<void>;
}

export interface PoolBackpressureOptions {
  /** The stage's worker pool (none: batches never wait). */
  pool: SaturablePool | undefined;
  pauses: PauseController;
  /** Told of each pause and resume. */
  report: (change: { paused: boolean; queue: number }) => void;
  logger: Logger;
}

/**
 * Holds a batch back while the stage's worker pool is saturated, with the
 * topic's fetching paused meanwhile (a reason of its own, so a fault's
 * recovery cannot resume it), and reports each pause and resume.
 */
export class PoolBackpressure {
  private readonly pool: SaturablePool | undefined;
  private readonly pauses: PauseController;
  private readonly report: (change: { paused: boolean; queue: number }) => void;
  private readonly logger: Logger;

  constructor({ pool, pauses, report, logger }: PoolBackpressureOptions) {
    this.pool = pool;
    this.pauses = pauses;
    this.report = report;
    this.logger = logger;
  }

  async waitForRoom(topic: string): Promise<void> {
    const pool = this.pool;
    if (pool === undefined || !pool.saturated) return;
    const release = this.pauses.hold(topic, 'backpressure');
    this.report({ paused: true, queue: pool.queueSize });
    this.logger.debug({ queue: pool.queueSize }, 'worker pool saturated; fetching paused');
    try {
      await pool.drained();
    } finally {
      release();
      this.report({ paused: false, queue: pool.queueSize });
    }
  }
}

import type { Admin } from 'kafkajs';
import type { Logger } from '../log/logger.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { stageLag } from '../status/lag.ts';
import type { StageName } from '../stages/stage-runner.ts';
import type { StageMetrics } from './stage-metrics.ts';

/**
 * Refreshes a stage's consumer-lag gauge from the group's committed offsets
 * and the log-end offsets, every `intervalMs` (two admin requests per
 * refresh, whatever the throughput). A refresh still running when the next
 * is due is not doubled; a failed one leaves the last values and logs why.
 */
export class LagMonitor {
  private readonly admin: Admin;
  private readonly pipeline: Pipeline;
  private readonly stage: StageName;
  private readonly metrics: StageMetrics;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(admin: Admin, pipeline: Pipeline, stage: StageName, metrics: StageMetrics, logger: Logger) {
    this.admin = admin;
    this.pipeline = pipeline;
    this.stage = stage;
    this.metrics = metrics;
    this.logger = logger;
  }

  start(intervalMs: number): void {
    const tick = () => {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.refreshing;
  }

  private async refresh(): Promise<void> {
    try {
      const lag = await stageLag(this.admin, this.pipeline, this.stage, () => this.stopped);
      for (const { partition, lag: records } of lag.partitions) {
        this.metrics.lag.set({ topic: lag.topic, partition: String(partition) }, records);
      }
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn({ err: error }, 'consumer lag could not be refreshed; the gauge keeps its last values');
    }
  }
}

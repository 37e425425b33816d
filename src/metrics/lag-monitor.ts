import type { ClusterAdmin } from '../kafka/cluster-admin.ts';
import type { Logger } from '../log/logger.ts';
import { PeriodicTask } from '../runtime/periodic-task.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { stageLag } from '../status/lag.ts';
import type { StageName } from '../pipeline/topology.ts';
import type { StageMetrics } from './stage-metrics.ts';

export interface LagMonitorOptions {
  admin: ClusterAdmin;
  pipeline: Pipeline;
  stage: StageName;
  metrics: StageMetrics;
  logger: Logger;
}

/**
 * Refreshes a stage's consumer-lag gauge from the group's committed offsets
 * and the log-end offsets, every `intervalMs` (two admin requests per
 * refresh, whatever the throughput); a failed refresh leaves the last values
 * and logs why.
 */
export class LagMonitor {
  private readonly admin: ClusterAdmin;
  private readonly pipeline: Pipeline;
  private readonly stage: StageName;
  private readonly metrics: StageMetrics;
  private readonly logger: Logger;
  private readonly task = new PeriodicTask(() => this.refresh());
  private stopped = false;

  constructor({ admin, pipeline, stage, metrics, logger }: LagMonitorOptions) {
    this.admin = admin;
    this.pipeline = pipeline;
    this.stage = stage;
    this.metrics = metrics;
    this.logger = logger;
  }

  start(intervalMs: number): void {
    this.task.start(intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.task.stop();
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

import type { ConfigError } from '../errors.ts';
import type { KafkaCluster } from '../kafka/client.ts';
import { openClusterAdmin, type ClusterAdmin } from '../kafka/cluster-admin.ts';
import { partitionCountError } from '../kafka/partition-counts.ts';
import type { Logger } from '../log/logger.ts';
import { PeriodicTask } from './periodic-task.ts';

export interface PartitionCountWatchOptions {
  kafka: KafkaCluster;
  topics: readonly string[];
  partitions: number;
  specPath: string;
  logger: Logger;
}

/**
 * Compares the pipeline's topics' partition counts with the spec's, now and
 * then, while a process runs: a topic grown under a running pipeline (by
 * hand, or by a migrate of a newer spec) changes where keys hash to and adds
 * partitions the process does not know. `mismatch()` resolves with the
 * sentence that says so, for the process to stop on. A check that cannot
 * reach the cluster is left to the next one.
 */
export class PartitionCountWatch {
  private readonly options: PartitionCountWatchOptions;
  private readonly task: PeriodicTask;
  private admin: Promise<ClusterAdmin> | undefined;
  private found: (error: ConfigError) => void = () => undefined;
  private readonly mismatched = new Promise<ConfigError>((resolve) => (this.found = resolve));

  constructor(options: PartitionCountWatchOptions) {
    this.options = options;
    this.task = new PeriodicTask(() => this.check());
  }

  start(intervalMs: number): void {
    this.task.start(intervalMs);
  }

  mismatch(): Promise<ConfigError> {
    return this.mismatched;
  }

  async stop(): Promise<void> {
    await this.task.stop();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((open) => open.close());
  }

  private async check(): Promise<void> {
    const { kafka, topics, partitions, specPath, logger } = this.options;
    try {
      this.admin ??= openClusterAdmin(kafka);
      const counts = await (await this.admin).partitionCounts(topics);
      const error = partitionCountError(counts, partitions, specPath);
      if (error !== undefined) this.found(error);
    } catch (error) {
      logger.debug({ err: error }, 'checking the topics’ partition counts failed; checked again later');
      const failed = this.admin;
      this.admin = undefined;
      await failed
        ?.then((open) => open.close())
        .catch((closeError: unknown) => logger.debug({ err: closeError }, 'closing the partition-count check’s admin client'));
    }
  }
}

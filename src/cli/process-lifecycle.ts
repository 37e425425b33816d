import type { ConfigError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import type { Connections } from '../runtime/connections.ts';
import { PartitionCountWatch } from '../runtime/partition-count-watch.ts';

export interface ServedProcess {
  logger: Logger;
  graceSeconds: number;
  /** Resolves when the process has failed for good: it exits 1 at once. */
  failed?: Promise<Error>;
  /** Resolves when the process's setting no longer matches the cluster: it drains and exits 2. */
  misconfigured: Promise<ConfigError>;
  /** Marks the process not ready, for as long as it drains. */
  notReady(reason: string): void;
  /** Stops taking work and finishes what is in flight. */
  drain(): Promise<void>;
}

/**
 * Runs a long-lived process (a stage, the collector) until SIGTERM or SIGINT
 * (drain, exit 0), a setting that stopped matching (drain, exit 2) or a
 * failure for good (exit 1). A drain that outlasts the grace period exits 1.
 */
export async function serveUntilStopped(served: ServedProcess): Promise<never> {
  const { logger, graceSeconds } = served;
  const stopping = new Promise<{ signal: string }>((resolve) => {
    process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }));
    process.once('SIGINT', () => resolve({ signal: 'SIGINT' }));
  });
  const outcome = await Promise.race([
    stopping,
    served.misconfigured.then((error) => ({ misconfigured: error })),
    ...(served.failed === undefined ? [] : [served.failed.then((error) => ({ failed: error }))]),
  ]);
  if ('failed' in outcome) {
    logger.fatal({ err: outcome.failed }, 'the consumer failed for good');
    process.exit(1);
  }
  if ('misconfigured' in outcome) {
    served.notReady(outcome.misconfigured.message);
    logger.fatal({ reason: outcome.misconfigured.message, graceSeconds }, 'stopping: the topics no longer match the spec');
  } else {
    logger.info({ signal: outcome.signal, graceSeconds }, 'draining');
  }
  const deadline = setTimeout(() => {
    logger.error({ graceSeconds }, 'drain did not finish within the grace period');
    process.exit(1);
  }, graceSeconds * 1000);
  await served.drain();
  clearTimeout(deadline);
  process.exit('misconfigured' in outcome ? 2 : 0);
}

/** Compares `topics`' partition counts with the spec's every `intervalSeconds` (see PartitionCountWatch). */
export function watchPartitionCounts(pipeline: Pipeline, topics: string[], connections: Connections, intervalSeconds: number): PartitionCountWatch {
  const watch = new PartitionCountWatch({
    kafka: connections.kafka,
    topics,
    partitions: pipeline.partitions,
    specPath: pipeline.specPath,
    logger: connections.logger,
  });
  watch.start(intervalSeconds * 1000);
  return watch;
}

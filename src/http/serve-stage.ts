import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import type { Env } from '../config/env.ts';
import { Readiness, type DependencyCheck } from '../health/readiness.ts';
import { LagMonitor } from '../metrics/lag-monitor.ts';
import { StageMetrics } from '../metrics/stage-metrics.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import type { Connections } from '../runtime/connections.ts';
import { startStage, type RunningStage } from '../stages/start-stage.ts';
import type { StageName } from '../pipeline/topology.ts';
import { StageServer } from './stage-server.ts';

export type ObservabilitySettings = Pick<Env, 'KELT_HTTP_HOST' | 'KELT_HTTP_PORT' | 'KELT_LAG_INTERVAL_SECONDS' | 'KELT_LIVENESS_TIMEOUT_SECONDS'>;

export interface ServedStage {
  running: RunningStage;
  port: number;
  metrics: StageMetrics;
  /** Stops the stage (drains in-flight batches), then its HTTP port and monitors. */
  stop(): Promise<void>;
}

const READINESS_INTERVAL_MS = 5_000;

/**
 * Starts a stage and puts it on its HTTP port: metrics subscribed to its runner and
 * pool, consumer lag refreshed in the background, liveness from its consumer
 * loop, readiness from its health and its dependencies (Kafka always, the
 * registry always, MySQL for load and transform).
 */
export async function serveStage(
  stage: StageName,
  pipeline: Pipeline,
  connections: Connections,
  settings: ObservabilitySettings,
): Promise<ServedStage> {
  const { kafka, registry, logger } = connections;
  const metrics = new StageMetrics(pipeline.name, stage);
  const running = await startStage(stage, pipeline, connections, (runner, pool) => metrics.observe(runner, pool));

  // The client's usual retries: a member may start while a broker is down,
  // and readiness checks run in the background, so no probe waits on them.
  const admin = await openClusterAdmin(kafka);
  const mysql = stage === 'extract' ? undefined : connections.mysql(1, pipeline.batch.queryTimeoutMs);
  const checks: DependencyCheck[] = [
    { name: 'Kafka', check: () => admin.ping() },
    { name: 'schema registry', check: () => registry.ping() },
    ...(mysql === undefined ? [] : [{ name: 'MySQL', check: () => mysql.query('SELECT 1') }]),
  ];
  const readiness = new Readiness(running.runner.faults, checks);
  readiness.start(READINESS_INTERVAL_MS);
  const lag = new LagMonitor({ admin, pipeline, stage, metrics, logger });
  lag.start(settings.KELT_LAG_INTERVAL_SECONDS * 1000);

  const livenessMs = settings.KELT_LIVENESS_TIMEOUT_SECONDS * 1000;
  const server = new StageServer(
    {
      registry: metrics.registry,
      live: () => running.runner.faults.alive(livenessMs),
      readiness: () => readiness.state(),
    },
    logger,
  );
  metrics.trackReadiness(() => readiness.state().ready);
  const port = await server.listen(settings.KELT_HTTP_HOST, settings.KELT_HTTP_PORT);
  logger.info({ host: settings.KELT_HTTP_HOST, port }, 'serving /metrics, /healthz and /readyz');
  return {
    port,
    metrics,
    running,
    async stop() {
      await running.stop();
      await server.close();
      await lag.stop();
      await readiness.stop();
      await admin.close();
      await mysql?.end();
    },
  };
}

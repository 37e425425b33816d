import { avroType } from '../avro/logical-types.ts';
import type avro from 'avsc';
import { Readiness } from '../health/readiness.ts';
import { StageServer } from '../http/stage-server.ts';
import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import { openRecordProducer } from '../kafka/record-producer.ts';
import { topicRecordLimits } from '../kafka/topic-limits.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { refuseChangeEventSource } from '../produce/produce.ts';
import type { Connections } from '../runtime/connections.ts';
import { CollectorMetrics } from './collector-metrics.ts';
import { EventIntake } from './event-intake.ts';
import { eventsRoute } from './events-route.ts';
import { ProduceBatcher } from './produce-batcher.ts';

export interface CollectorSettings {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxEventsPerRequest: number;
  maxBufferedEvents: number;
  /** Request bodies held at once across requests, in bytes (429 beyond): what slow or large bodies may take of the heap. */
  maxBufferedBytes: number;
  ackTimeoutMs: number;
  tokens: readonly string[];
  corsOrigins: readonly string[];
}

export interface ServedCollector {
  port: number;
  /** Reports not ready, with the reason, from now on (the process is about to stop). */
  notReady(reason: string): void;
  /** Stops taking requests, answers those in flight, flushes what Kafka has not acknowledged yet, closes. */
  stop(graceMs: number): Promise<void>;
}

/** Events per produce request, at most: a few of kafkajs's per-partition requests (send.ts cuts them at 500 each). */
const MAX_BATCH_EVENTS = 4_000;
const RETRY_AFTER_MS = 2_000;
const READINESS_INTERVAL_MS = 5_000;
/** A client gets 10 s to send its headers and 30 s for its whole request; at most 1,024 connections at once. */
const COLLECTOR_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1_024 };

/**
 * `kelt collect`: an HTTP port that takes events for the pipeline's raw
 * topic (`POST /events`) beside `/metrics`, `/healthz` and `/readyz`.
 * Events are written as any producer of the pipeline writes them (Avro under
 * the source schema's registry id, or JSON; keyed by the key field;
 * partitioned like the Java client) through one idempotent producer.
 */
export async function serveCollector(pipeline: Pipeline, connections: Connections, settings: CollectorSettings): Promise<ServedCollector> {
  refuseChangeEventSource(pipeline);
  const { kafka, registry, logger } = connections;
  const type = avroType(pipeline.source.schema) as avro.types.RecordType;
  const encoding =
    pipeline.source.format === 'avro'
      ? { format: 'avro' as const, schemaId: await registry.registerAvro(`${pipeline.topics.raw}-value`, pipeline.source.schema) }
      : { format: 'json' as const };
  const maxRecordBytes = await topicRecordLimits(kafka, [pipeline.topics.raw])(pipeline.topics.raw);

  const metrics = new CollectorMetrics(pipeline.name, () => batcher.buffered);
  const batcher = new ProduceBatcher({
    openProducer: () => openRecordProducer(kafka),
    topic: pipeline.topics.raw,
    partitions: pipeline.partitions,
    maxBufferedEvents: settings.maxBufferedEvents,
    maxBatchEvents: Math.min(MAX_BATCH_EVENTS, settings.maxBufferedEvents),
    ackTimeoutMs: settings.ackTimeoutMs,
    retryAfterMs: RETRY_AFTER_MS,
    onSent: (_events, seconds) => metrics.produceSeconds.observe(seconds),
    onError: (error, what) =>
      logger.warn({ err: error }, what === 'send' ? 'Kafka did not take a batch of events' : 'a retired producer did not close'),
  });
  const intake = new EventIntake({ type, keyField: pipeline.source.keyField, encoding, maxRecordBytes, batcher });

  const admin = await openClusterAdmin(kafka);
  let refusal: string | undefined;
  const reasons = () => [batcher.unavailable(), refusal].filter((why) => why !== undefined);
  const health = {
    get ready() {
      return reasons().length === 0;
    },
    get reasons() {
      return reasons();
    },
  };
  const readiness = new Readiness(health, [{ name: 'Kafka', check: () => admin.ping() }]);
  readiness.start(READINESS_INTERVAL_MS);

  let stopping = false;
  const server = new StageServer(
    {
      registry: metrics.registry,
      live: () => ({ alive: true }),
      readiness: () => readiness.state(),
      routes: {
        '/events': eventsRoute({
          intake,
          metrics,
          logger,
          maxBodyBytes: settings.maxBodyBytes,
          maxEvents: Math.min(settings.maxEventsPerRequest, settings.maxBufferedEvents),
          maxBufferedBytes: settings.maxBufferedBytes,
          tokens: settings.tokens,
          corsOrigins: settings.corsOrigins,
          retryAfterSeconds: () => batcher.retryAfterSeconds,
          stopping: () => stopping,
        }),
      },
    },
    logger,
    COLLECTOR_LIMITS,
  );
  const port = await server.listen(settings.host, settings.port);
  logger.info(
    { host: settings.host, port, topic: pipeline.topics.raw, format: encoding.format, authentication: settings.tokens.length > 0 },
    'collecting events on POST /events; serving /metrics, /healthz and /readyz',
  );
  return {
    port,
    notReady(reason) {
      refusal = reason;
    },
    async stop(graceMs) {
      stopping = true;
      await server.drain(graceMs);
      await batcher.close();
      await readiness.stop();
      await admin.close();
    },
  };
}

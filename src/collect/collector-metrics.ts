import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Why the collector refused an event: a closed set (a metrics label). */
export type RefusalReason = 'schema_violation' | 'too_large' | 'unreadable' | 'busy' | 'unavailable' | 'unauthorized';

/**
 * The collector's Prometheus metrics, with the pipeline and `stage="collect"`
 * as default labels (the stages' dashboards and alerts select by them).
 */
export class CollectorMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'code'>;
  readonly accepted: Counter;
  readonly refused: Counter<'reason'>;
  readonly produceSeconds: Histogram;
  readonly requestSeconds: Histogram;
  readonly bodyBytes: Gauge;

  constructor(pipeline: string, buffered: () => number) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ pipeline, stage: 'collect' });
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'kelt_collect_requests_total',
      help: 'Event requests answered, by HTTP status.',
      labelNames: ['code'],
      registers,
    });
    this.accepted = new Counter({
      name: 'kelt_collect_events_accepted_total',
      help: 'Events acknowledged by Kafka and answered accepted.',
      registers,
    });
    this.refused = new Counter({
      name: 'kelt_collect_events_refused_total',
      help: 'Events answered refused (the client must fix them) or not accepted (busy, unavailable: the client retries), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.produceSeconds = new Histogram({
      name: 'kelt_collect_produce_seconds',
      help: 'From a produce request sent to its acknowledgement by every in-sync replica.',
      buckets: latencyBuckets,
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'kelt_collect_request_seconds',
      help: 'From an event request received to its answer.',
      buckets: latencyBuckets,
      registers,
    });
    this.bodyBytes = new Gauge({
      name: 'kelt_collect_body_bytes',
      help: 'Bytes of request bodies held at once, across requests (bounded by --max-buffered-bytes: 429 beyond).',
      registers,
    });
    new Gauge({
      name: 'kelt_collect_buffered_events',
      help: 'Events received and not yet acknowledged by Kafka.',
      registers,
      collect() {
        this.set(buffered());
      },
    });
  }
}

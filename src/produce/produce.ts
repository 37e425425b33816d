import type avro from 'avsc';
import { withExactNumbers } from '../avro/json-numbers.ts';
import { avroType } from '../avro/logical-types.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, PermanentError } from '../errors.ts';
import { openRecordProducer } from '../kafka/record-producer.ts';
import type { OutgoingRecord } from '../kafka/records.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import type { Connections } from '../runtime/connections.ts';
import type { Event } from './event-source.ts';
import { nextRequestSize, waitAfterSend } from './request-pacing.ts';

/** How long a send keeps retrying through a broker's absence before `kelt produce` gives up. */
const SEND_RETRY_MS = 120_000;

export interface ProduceOptions {
  /** Events per second at most; unlimited when absent. */
  rate?: number;
  /** Messages per produce request. */
  batchSize?: number;
  onProgress?: (sent: number) => void;
}

/**
 * Puts events on the pipeline's raw topic the way any producer should:
 * encoded with the registry (Avro, Confluent wire format) or as JSON, keyed
 * by the pipeline's key field, partitioned like the Java client.
 */
export async function produceEvents(
  pipeline: Pipeline,
  events: AsyncIterable<Event>,
  { kafka, registry }: Pick<Connections, 'kafka' | 'registry'>,
  { rate, batchSize = 500, onProgress }: ProduceOptions = {},
): Promise<number> {
  refuseChangeEventSource(pipeline);
  const avro = pipeline.source.format === 'avro';
  const schemaId = avro ? await registry.registerAvro(`${pipeline.topics.raw}-value`, pipeline.source.schema) : 0;
  // Numbers an NDJSON file wrote past a double's digits are read as the schema's type (exact-json.ts).
  const sourceType = avroType(pipeline.source.schema as avro.Schema);
  const producer = await openRecordProducer(kafka, { retryForMs: SEND_RETRY_MS });
  const pacing = { rate, batchSize };
  const started = Date.now();
  let requestSize = nextRequestSize(pacing, 0, 0);
  let sent = 0;
  let pending: OutgoingRecord[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await producer.send(pipeline.topics.raw, pending, pipeline.partitions);
    sent += pending.length;
    pending = [];
    onProgress?.(sent);
    const wait = waitAfterSend(pacing, Date.now() - started, sent);
    if (wait > 0) await sleep(wait);
    requestSize = nextRequestSize(pacing, Date.now() - started, sent);
  };
  try {
    for await (const event of events) {
      const key = event[pipeline.source.keyField];
      if (key === null || key === undefined) {
        throw new PermanentError(`event ${sent + pending.length + 1} has no ${pipeline.source.keyField} (the key field)`);
      }
      const value = avro
        ? await encodeEvent(registry, schemaId, withExactNumbers(sourceType, event) as Event, sent + pending.length + 1)
        : Buffer.from(JSON.stringify(event));
      pending.push({ key: String(key), value });
      if (pending.length >= requestSize) await flush();
    }
    await flush();
    return sent;
  } finally {
    await producer.close();
  }
}

/** A Debezium pipeline's raw topic is its connector's: events of kelt's making would not be change events. */
export function refuseChangeEventSource(pipeline: Pipeline): void {
  if (pipeline.source.format === 'debezium') {
    throw new ConfigError(`pipeline ${pipeline.name} reads Debezium change events: its raw topic ${pipeline.topics.raw} is written by the connector`);
  }
}

async function encodeEvent(registry: Connections['registry'], schemaId: number, event: Event, number: number): Promise<Buffer> {
  try {
    return await registry.encodeAvro(schemaId, event);
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    throw new PermanentError(`event ${number} ${error.message}`, { cause: error, reason: 'schema_violation' });
  }
}

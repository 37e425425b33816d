import type avro from 'avsc';
import { frame } from '../registry/wire-format.ts';
import { loneRecordBytes } from '../kafka/send.ts';
import type { OutgoingRecord } from '../kafka/records.ts';
import { checkEvent } from './event-check.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

/** An event refused for what it is: its place in the request, the field at fault, and why. */
export interface RefusedEvent {
  index: number;
  field: string;
  error: string;
  reason: 'schema_violation' | 'too_large';
}

export interface IntakeResult {
  accepted: number;
  refused: RefusedEvent[];
}

export interface EventIntakeOptions {
  /** The pipeline's source schema. */
  type: avro.types.RecordType;
  keyField: string;
  /** How the raw topic carries a value: Avro in the Confluent wire format under this schema id, or JSON text. */
  encoding: { format: 'avro'; schemaId: number } | { format: 'json' };
  /** A record the broker would refuse (the topic's max.message.bytes) would fail every event sent beside it. */
  maxRecordBytes: number;
  batcher: Pick<ProduceBatcher, 'submit'>;
}

/**
 * What the collector does with a request's events: each checked against the
 * source schema and encoded as the raw topic carries it, keyed by the
 * pipeline's key field; the valid ones handed to Kafka together, and the
 * answer given once Kafka has them all. The refused ones are never sent.
 * Busy and unavailable reach the caller as the batcher's errors: then none
 * of the request's events was accepted.
 */
export class EventIntake {
  private readonly options: EventIntakeOptions;

  constructor(options: EventIntakeOptions) {
    this.options = options;
  }

  async take(events: readonly unknown[]): Promise<IntakeResult> {
    const { type, keyField, encoding, maxRecordBytes } = this.options;
    const records: OutgoingRecord[] = [];
    const refused: RefusedEvent[] = [];
    events.forEach((event, index) => {
      const verdict = checkEvent(type, keyField, event);
      if (!verdict.ok) {
        refused.push({ index, field: verdict.field, error: verdict.error, reason: 'schema_violation' });
        return;
      }
      let value: Buffer;
      try {
        // JSON goes on as the client wrote it: its numbers' digits (JsonNumberText) kept, where the checked
        // value holds what JSON cannot write (a long as a BigInt, a decimal as bytes).
        value = encoding.format === 'avro' ? frame(encoding.schemaId, type.toBuffer(verdict.event)) : Buffer.from(JSON.stringify(event));
      } catch (error) {
        // The check passed: a value avsc still cannot write is refused with avsc's word for it.
        refused.push({ index, field: '(event)', error: (error as Error).message, reason: 'schema_violation' });
        return;
      }
      const record = { key: verdict.key, value };
      const bytes = loneRecordBytes(record);
      if (bytes > maxRecordBytes) {
        refused.push({
          index,
          field: '(event)',
          error: `the event is ${bytes} bytes as a record; the topic takes at most ${maxRecordBytes}`,
          reason: 'too_large',
        });
        return;
      }
      records.push(record);
    });
    await this.options.batcher.submit(records);
    return { accepted: records.length, refused };
  }
}

import type { KafkaMessage, Producer } from 'kafkajs';

/** A record a stage could not process, with why. */
export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** A short, bounded label (metrics use it): undecodable, unknown_schema, schema_violation, transform_error, row_rejected… */
  reason: string;
  error: string;
}

/**
 * Writes dead letters to the pipeline's DLQ topic: the original key and bytes,
 * with headers naming the stage, the reason, the error and the original
 * topic/partition/offset. A dead letter keeps its original partition number,
 * so the DLQ holds a partition's failures in their order.
 */
export class DeadLetterQueue {
  private readonly producer: Producer;
  private readonly topic: string;
  private readonly stage: string;

  constructor(producer: Producer, topic: string, stage: string) {
    this.producer = producer;
    this.topic = topic;
    this.stage = stage;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map((letter) => ({
        key: letter.message.key,
        value: letter.message.value,
        partition: letter.partition,
        headers: {
          ...letter.message.headers,
          'kelt.stage': this.stage,
          'kelt.reason': letter.reason,
          'kelt.error': letter.error.slice(0, 2_000),
          'kelt.original.topic': letter.topic,
          'kelt.original.partition': String(letter.partition),
          'kelt.original.offset': letter.message.offset,
          'kelt.failed.at': new Date().toISOString(),
        },
      })),
    });
  }
}

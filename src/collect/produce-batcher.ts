import { KeltError } from '../errors.ts';
import type { OutgoingRecord } from '../kafka/records.ts';
import type { RecordProducer } from '../kafka/record-producer.ts';

/** The collector holds as many events as it may: the client should come back later (429). */
export class CollectorBusyError extends KeltError {
  readonly code = 'KELT_COLLECTOR_BUSY';
  readonly retriable = true;
}

/** Kafka did not take the events in time, or the collector is stopping (503): nothing was accepted. */
export class CollectorUnavailableError extends KeltError {
  readonly code = 'KELT_COLLECTOR_UNAVAILABLE';
  readonly retriable = true;
}

export interface ProduceBatcherOptions {
  /** Opens a connected idempotent producer; a new one after a send failed. */
  openProducer(): Promise<RecordProducer>;
  topic: string;
  partitions: number;
  /** Events submitted and not yet acknowledged, at most; more are refused as busy. */
  maxBufferedEvents: number;
  /** Events per produce request, at most (a request's events are never split). */
  maxBatchEvents: number;
  /** How long a submission waits for Kafka's acknowledgement before it is answered unavailable. */
  ackTimeoutMs: number;
  /** After a failed send, how long new submissions are refused before the next try. */
  retryAfterMs: number;
  now?: () => number;
  onSent?: (events: number, seconds: number) => void;
  /** A send that failed (its requests were answered unavailable), or a retired producer that did not close. */
  onError?: (error: unknown, what: 'send' | 'close') => void;
}

interface Submission {
  records: readonly OutgoingRecord[];
  submittedAt: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Gathers the events of concurrent requests into one produce request at a
 * time, and answers each request once Kafka has acknowledged its events
 * (acks=all, idempotent producer). A submission is never answered accepted
 * unless its send succeeded: a send that fails or outlasts the deadline
 * answers its requests unavailable and retires the producer, because a
 * kafkajs idempotent producer that gave up on a request may later reuse its
 * sequence numbers for other records, which the broker would then drop as
 * duplicates. The retired producer is closed once its send settles; whatever
 * of it lands is a copy the client retries, which the event's key absorbs
 * downstream (staging upserts by it).
 */
export class ProduceBatcher {
  private readonly options: ProduceBatcherOptions;
  private readonly now: () => number;
  private queue: Submission[] = [];
  private queuedEvents = 0;
  private inFlightEvents = 0;
  private producer: Promise<RecordProducer> | undefined;
  private sending: Promise<void> | undefined;
  private refusedUntil = 0;
  private lastFailure: string | undefined;
  private closed = false;

  constructor(options: ProduceBatcherOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Events submitted and not yet answered. */
  get buffered(): number {
    return this.queuedEvents + this.inFlightEvents;
  }

  /** Why the collector cannot take events now (undefined when it can). */
  unavailable(): string | undefined {
    if (this.closed) return 'the collector is stopping';
    return this.now() < this.refusedUntil ? `Kafka did not take the last events: ${this.lastFailure ?? 'unknown'}` : undefined;
  }

  /** Seconds a refused client should wait before trying again. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.retryAfterMs / 1000));
  }

  /** Resolves once Kafka has every one of `records`; rejects with CollectorBusyError or CollectorUnavailableError otherwise. */
  submit(records: readonly OutgoingRecord[]): Promise<void> {
    const why = this.unavailable();
    if (why !== undefined) return Promise.reject(new CollectorUnavailableError(why));
    if (this.buffered + records.length > this.options.maxBufferedEvents) {
      return Promise.reject(new CollectorBusyError(`${this.buffered} events are waiting for Kafka (at most ${this.options.maxBufferedEvents})`));
    }
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, submittedAt: this.now(), resolve, reject });
      this.queuedEvents += records.length;
      this.sending ??= this.sendQueued().finally(() => (this.sending = undefined));
    });
  }

  /** Refuses new submissions, waits for the queued ones to be answered, and closes the producer. */
  async close(): Promise<void> {
    this.closed = true;
    await this.sending;
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) await this.retire(producer);
  }

  private async sendQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const records = batch.flatMap((submission) => submission.records);
      this.inFlightEvents = records.length;
      const started = this.now();
      try {
        await this.sendWithin(records);
        this.options.onSent?.(records.length, (this.now() - started) / 1000);
        for (const submission of batch) submission.resolve();
      } catch (error) {
        this.options.onError?.(error, 'send');
        this.lastFailure = (error as Error).message;
        this.refusedUntil = this.now() + this.options.retryAfterMs;
        const answer = new CollectorUnavailableError(`Kafka did not take the events: ${this.lastFailure}`, { cause: error });
        for (const submission of batch) submission.reject(answer);
        // Queued behind the failure: answered now rather than after another deadline.
        for (const submission of this.queue.splice(0)) submission.reject(answer);
        this.queuedEvents = 0;
      } finally {
        this.inFlightEvents = 0;
      }
    }
  }

  /** Whole submissions from the head of the queue, up to maxBatchEvents (at least one). */
  private takeBatch(): Submission[] {
    let events = 0;
    let count = 0;
    for (const submission of this.queue) {
      if (count > 0 && events + submission.records.length > this.options.maxBatchEvents) break;
      events += submission.records.length;
      count++;
    }
    this.queuedEvents -= events;
    return this.queue.splice(0, count);
  }

  private async sendWithin(records: readonly OutgoingRecord[]): Promise<void> {
    this.producer ??= this.options.openProducer();
    const producer = this.producer;
    const send = producer.then((open) => open.send(this.options.topic, records, this.options.partitions));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CollectorUnavailableError(`no acknowledgement within ${this.options.ackTimeoutMs} ms`)),
        this.options.ackTimeoutMs,
      );
    });
    try {
      await Promise.race([send, deadline]);
    } catch (error) {
      if (this.producer === producer) this.producer = undefined;
      // The send may still be under way: close the producer only once it settles.
      void send.then(
        () => this.retire(producer),
        () => this.retire(producer),
      );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes a producer that may never have connected (its failure to open was answered already). */
  private async retire(producer: Promise<RecordProducer>): Promise<void> {
    const open = await producer.then(
      (connected) => connected,
      () => undefined,
    );
    try {
      await open?.close();
    } catch (error) {
      this.options.onError?.(error, 'close');
    }
  }
}

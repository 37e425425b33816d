import type { CommittedPosition, OpenTransaction, TransactionalClient, TransactionalProducer } from '../../src/kafka/partition-transactions.ts';
import type { OutgoingRecord } from '../../src/kafka/records.ts';
import { kafkaErrors } from './kafka-errors.ts';

const protocolError = kafkaErrors.protocol;

/**
 * A transaction coordinator and a group's offsets in memory, with the broker
 * semantics that matter: initialising an id settles the transaction an
 * older producer of it left (committed if its commit had landed, else
 * aborted) and fences that producer.
 */
export class FakeCluster implements TransactionalClient {
  /** Every committed record, in commit order. */
  readonly topic: OutgoingRecord[] = [];
  /** The committed records by topic. */
  readonly topics = new Map<string, OutgoingRecord[]>();
  readonly offsets = new Map<string, bigint>();
  /** The topic id each committed offset was committed with. */
  readonly offsetTopicIds = new Map<string, string | undefined>();
  /** Each topic's id (KIP-516), as the cluster reports it; a topic absent here has none. */
  readonly topicIds = new Map<string, string>();
  /**
   * What the next commit does: land and answer, land but lose the answer,
   * fail before landing, or land with its answer lost and its offsets
   * dropped by the group coordinator (KAFKA-20634, Kafka before 4.3: a
   * broker that resumed leading the group's __consumer_offsets partition
   * after a quick restart acknowledges the commit marker, then loses it).
   */
  nextCommit: 'ok' | 'lost-reply' | 'refused' | 'fenced' | 'offsets-dropped' = 'ok';
  /** Fails the next producer initialisations (the coordinator unreachable). */
  failInits = 0;
  inits = 0;
  private epochs = new Map<string, number>();
  private pending = new Map<
    string,
    { records: Array<[string, OutgoingRecord]>; offset?: [string, bigint, string | undefined]; landed: boolean; offsetsDropped?: boolean }
  >();

  async producer(transactionalId: string): Promise<TransactionalProducer> {
    if (this.failInits > 0) {
      this.failInits--;
      throw kafkaErrors.connection('coordinator unreachable');
    }
    this.inits++;
    const left = this.pending.get(transactionalId);
    if (left?.landed) this.apply(left);
    this.pending.delete(transactionalId);
    const epoch = (this.epochs.get(transactionalId) ?? 0) + 1;
    this.epochs.set(transactionalId, epoch);
    const fenced = () => this.epochs.get(transactionalId) !== epoch;
    return {
      transaction: async (): Promise<OpenTransaction> => {
        const state = {
          records: [] as Array<[string, OutgoingRecord]>,
          offset: undefined as [string, bigint, string | undefined] | undefined,
          landed: false,
          offsetsDropped: false,
        };
        this.pending.set(transactionalId, state);
        return {
          sink: {
            send: async (topic, records) => {
              if (fenced()) throw protocolError('PRODUCER_FENCED');
              state.records.push(...records.map((record): [string, OutgoingRecord] => [topic, record]));
            },
          },
          sendOffsets: async ({ groupId, topic, partition, nextOffset, topicId }) => {
            state.offset = [`${groupId}/${topic}/${partition}`, BigInt(nextOffset), topicId];
          },
          commit: async () => {
            const outcome = this.nextCommit;
            this.nextCommit = 'ok';
            if (fenced() || outcome === 'fenced') throw protocolError('PRODUCER_FENCED');
            if (outcome === 'refused') throw kafkaErrors.protocol('NOT_COORDINATOR');
            state.landed = true;
            state.offsetsDropped = outcome === 'offsets-dropped';
            if (outcome === 'lost-reply' || outcome === 'offsets-dropped') throw kafkaErrors.requestTimeout('request timed out');
            this.apply(state);
            this.pending.delete(transactionalId);
          },
          abort: async () => {
            this.pending.delete(transactionalId);
          },
        };
      },
      disconnect: async () => {},
    };
  }

  async committedOffset(groupId: string, topic: string, partition: number): Promise<bigint | undefined> {
    return this.offsets.get(`${groupId}/${topic}/${partition}`);
  }

  async committedPosition(groupId: string, topic: string, partition: number): Promise<CommittedPosition | undefined> {
    const key = `${groupId}/${topic}/${partition}`;
    const offset = this.offsets.get(key);
    return offset === undefined ? undefined : { offset, topicId: this.offsetTopicIds.get(key) };
  }

  async topicId(topic: string): Promise<string | undefined> {
    return this.topicIds.get(topic);
  }

  async close(): Promise<void> {}

  private apply(state: { records: Array<[string, OutgoingRecord]>; offset?: [string, bigint, string | undefined]; offsetsDropped?: boolean }): void {
    for (const [topic, record] of state.records) {
      this.topic.push(record);
      this.topics.set(topic, [...(this.topics.get(topic) ?? []), record]);
    }
    if (state.offset !== undefined && state.offsetsDropped !== true) {
      this.offsets.set(state.offset[0], state.offset[1]);
      this.offsetTopicIds.set(state.offset[0], state.offset[2]);
    }
  }
}

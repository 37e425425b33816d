import type { BatchControls, ConsumerListener, FetchedBatch, GroupConsumer } from '../../src/kafka/group-consumer.ts';

/** A consumer group member driven by the test: it delivers the batches the test hands it. */
export class FakeConsumer implements GroupConsumer {
  listener!: ConsumerListener;
  readonly log: string[] = [];
  heartbeatError: Error | undefined;
  private eachBatch!: (batch: FetchedBatch, controls: BatchControls) => Promise<void>;

  async run(_topic: string, _concurrency: number, eachBatch: (batch: FetchedBatch, controls: BatchControls) => Promise<void>) {
    this.eachBatch = eachBatch;
  }

  deliver(partition: number, from: number, count: number): Promise<void> {
    const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from('x'), offset: String(from + i), timestamp: '0' }));
    return this.eachBatch(
      { topic: 'in', partition, records, lastOffset: String(from + count - 1) },
      {
        heartbeat: async () => {
          if (this.heartbeatError !== undefined) throw this.heartbeatError;
        },
        isRunning: () => true,
        isStale: () => false,
        resolve: (offset) => this.log.push(`resolve ${partition}@${offset}`),
      },
    );
  }

  async commit(_topic: string, partition: number, offset: string) {
    this.log.push(`commit ${partition}@${offset}`);
  }
  seek(_topic: string, partition: number, offset: string) {
    this.log.push(`seek ${partition}@${offset}`);
  }
  pause(topic: string) {
    this.log.push(`pause ${topic}`);
  }
  resume(topic: string) {
    this.log.push(`resume ${topic}`);
  }
  pausedPartitions() {
    return 0;
  }
  async stop() {}
}

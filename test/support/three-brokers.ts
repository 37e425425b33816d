import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { stack } from './fault-run.ts';

/**
 * A three-broker cluster of the local stack's (replication factor 3,
 * min.insync.replicas 2, producers acks=all) on ports of its own, beside the
 * one-broker cluster the other tests use; the registry and MariaDB are shared.
 */
export const clusterEnv = {
  KELT_STACK_DIR: fileURLToPath(new URL('../../.stack/three-brokers', import.meta.url)),
  KELT_STACK_KAFKA_PORT: '29092',
};
export const clusterBrokers = ['127.0.0.1:29092', '127.0.0.1:29094', '127.0.0.1:29096'];
const stackScript = fileURLToPath(new URL('../../scripts/stack', import.meta.url));
const run = promisify(execFile);

export async function clusterUp(): Promise<void> {
  await run(stackScript, ['up', '--brokers', '3', '--only', 'kafka'], { env: { ...process.env, ...clusterEnv } });
}

/**
 * Stops the cluster and deletes its data: every fault test starts from a
 * fresh cluster, not one carrying earlier runs' topics (which a restarted
 * broker would load again, and whose deletion a stopped broker can miss).
 */
export async function clusterDown(): Promise<void> {
  await run(stackScript, ['purge'], { env: { ...process.env, ...clusterEnv } });
}

/** Stops (gracefully), kills (SIGKILL) or starts broker N of the cluster. */
export async function broker(command: 'stop' | 'kill' | 'start', id: number): Promise<void> {
  await stack(command, `broker-${id}`, clusterEnv);
}

/** Java's String.hashCode, which Kafka uses to place a transactional id. */
function javaHashCode(text: string): number {
  let hash = 0;
  for (const char of text) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

/**
 * The broker that coordinates the most of `transactionalIds`: the leader of
 * their __transaction_state partitions (abs(hashCode) mod the partition count).
 */
export async function busiestTransactionCoordinator(kafka: Kafka, transactionalIds: readonly string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__transaction_state'] });
    const partitions = topics[0]!.partitions;
    const leaders = new Map(partitions.map((p) => [p.partitionId, p.leader]));
    const load = new Map<number, number>();
    for (const id of transactionalIds) {
      const hash = javaHashCode(id);
      const leader = leaders.get((hash === -2147483648 ? 0 : Math.abs(hash)) % partitions.length)!;
      load.set(leader, (load.get(leader) ?? 0) + 1);
    }
    return [...load.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  } finally {
    await admin.disconnect();
  }
}

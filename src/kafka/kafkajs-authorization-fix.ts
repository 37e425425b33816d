import { patchKafkajsModule } from './kafkajs-patch.ts';

type WithBroker = (this: unknown, callback: (broker: unknown) => Promise<unknown>) => Promise<unknown>;

const refusals = new Set([
  'GROUP_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/**
 * kafkajs 2.2.4's BrokerPool.withBroker tries a request on each broker and
 * swallows every error (`catch (e) {}`), returning null when all failed: a
 * FindCoordinator the cluster refuses for want of an ACL then surfaces as
 * "Failed to find group coordinator", retried like an election in progress,
 * and the reason is lost. An authorization failure is the same on every
 * broker, so when all brokers failed and one refused, the refusal is thrown.
 */
export function keepingRefusals(withBroker: WithBroker): WithBroker {
  return async function (this: unknown, callback) {
    let refusal: unknown;
    const result = await withBroker.call(this, async (broker) => {
      try {
        return await callback(broker);
      } catch (error) {
        if (refusals.has((error as { type?: unknown }).type as string)) refusal = error;
        throw error;
      }
    });
    if (result === null && refusal !== undefined) throw refusal;
    return result;
  };
}

patchKafkajsModule<{ prototype: { withBroker: WithBroker } }>('cluster/brokerPool.js', 'cluster/index.js', (BrokerPool) => {
  BrokerPool.prototype.withBroker = keepingRefusals(BrokerPool.prototype.withBroker);
  return BrokerPool;
});

import { patchKafkajsModule } from './kafkajs-patch.ts';

/**
 * A fix for kafkajs 2.2.4 (no release since 2023), installed before kafkajs
 * is first loaded (through kafkajs-fixes.ts).
 *
 * The bug: when the set of brokers changes while a consumer is stopping (a
 * broker dies just as the stage drains on SIGTERM), the fetch manager takes
 * the change for a reason to rebalance its fetchers and starts new ones after
 * the runner has already stopped them. A stopped runner answers every fetch
 * with no batches at once, so the new fetchers loop on promises alone: the
 * process spins at 100% CPU, no timer ever fires again (not even the drain's
 * grace deadline), and it never exits. kafkajs issues #1384 and #1387 are the
 * same loop with no brokers left; PR #1402 fixed only that case.
 *
 * The fix wraps the fetch manager: once it is stopped, a fetch ends its
 * fetcher with a sentinel error instead of an empty answer, and the
 * manager's start returns when it sees that sentinel, so the runner's loop
 * ends as it does on a normal stop.
 */
class FetchManagerStopped extends Error {
  override readonly name = 'FetchManagerStopped';
}

interface FetchManager {
  start(): Promise<void>;
  stop(): Promise<void>;
  getFetchers(): unknown;
}

interface FetchManagerOptions {
  fetch(nodeId: number): Promise<unknown[]>;
  [option: string]: unknown;
}

type CreateFetchManager = (options: FetchManagerOptions) => FetchManager;

export function stoppableFetchManager(create: CreateFetchManager): CreateFetchManager {
  return (options) => {
    let stopped = false;
    const manager = create({
      ...options,
      fetch: async (nodeId) => {
        if (stopped) throw new FetchManagerStopped('the fetch manager was stopped');
        return options.fetch(nodeId);
      },
    });
    return {
      ...manager,
      async start() {
        stopped = false;
        try {
          await manager.start();
        } catch (error) {
          if (!(error instanceof FetchManagerStopped)) throw error;
        }
      },
      async stop() {
        stopped = true;
        await manager.stop();
      },
    };
  };
}

patchKafkajsModule('consumer/fetchManager.js', 'consumer/runner.js', stoppableFetchManager);

import { setTimeout as sleep } from 'node:timers/promises';

/** A Piscina task for the worker pool's tests: waits `ms`, then answers with it. */
export default async function waitingTask({ ms }: { ms: number }): Promise<number> {
  await sleep(ms);
  return ms;
}

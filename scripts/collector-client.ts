import { setTimeout as sleep } from 'node:timers/promises';

/** What a client of the collector saw: each request's status (0: no answer), and the events answered accepted. */
export interface CollectorClientTally {
  statuses: Map<number, number>;
  accepted: Set<string>;
}

export interface PostOptions {
  url: string;
  token?: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Events per request. */
  batchSize: number;
  /** Between one client's requests (paces the load). */
  pauseMs?: number;
  /** Gives up on an event batch after this long (a test bound, never reached when the collector recovers). */
  giveUpMs?: number;
}

/**
 * Posts events the way a well-behaved client does (the demo and the collector tests): in batches, each batch
 * sent again until it is answered 200 (after Retry-After, capped at 1 s for
 * the test's sake, on 429 and 503; at once when the connection failed, as
 * after a crash). Events answered accepted are recorded by `idOf`.
 */
export async function postUntilAccepted(
  events: readonly Record<string, unknown>[],
  idOf: (event: Record<string, unknown>) => string,
  { url, token, concurrency, batchSize, pauseMs = 0, giveUpMs = 120_000 }: PostOptions,
  tally: CollectorClientTally = { statuses: new Map(), accepted: new Set() },
): Promise<CollectorClientTally> {
  const batches: Array<readonly Record<string, unknown>[]> = [];
  for (let i = 0; i < events.length; i += batchSize) batches.push(events.slice(i, i + batchSize));
  const headers = { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  const client = async () => {
    for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
      const deadline = Date.now() + giveUpMs;
      for (;;) {
        const status = await fetch(url, { method: 'POST', headers, body: JSON.stringify(batch), signal: AbortSignal.timeout(30_000) }).then(
          async (response) => {
            await response.arrayBuffer();
            return { code: response.status, retryAfter: Number(response.headers.get('retry-after') ?? 0) };
          },
          () => ({ code: 0, retryAfter: 0 }),
        );
        tally.statuses.set(status.code, (tally.statuses.get(status.code) ?? 0) + 1);
        if (status.code === 200) {
          for (const event of batch) tally.accepted.add(idOf(event));
          break;
        }
        if (![0, 429, 503].includes(status.code)) throw new Error(`the collector answered ${status.code} to a valid batch`);
        if (Date.now() > deadline) throw new Error(`a batch was not accepted within ${giveUpMs} ms`);
        await sleep(status.code === 0 ? 100 : Math.min(1_000, status.retryAfter * 1000));
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return tally;
}

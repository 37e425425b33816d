export interface Pacing {
  /** Events per second at most; unlimited when absent. */
  rate?: number;
  /** Messages per produce request, at most. */
  batchSize: number;
}

/**
 * How many events the next produce request carries. Unpaced: `batchSize`.
 * Paced: every event due by now and not yet sent, so that a producer whose
 * requests take longer than the schedule (acks from replicas on a busy
 * cluster) catches up with larger requests instead of falling below the
 * rate; at least a twentieth of a second's events, so that an on-time
 * producer sends about 20 requests a second; at most `batchSize`.
 */
export function nextRequestSize({ rate, batchSize }: Pacing, elapsedMs: number, sent: number): number {
  if (rate === undefined) return batchSize;
  const due = Math.floor((elapsedMs / 1000) * rate) - sent;
  return Math.max(1, Math.min(batchSize, Math.max(Math.ceil(rate / 20), due)));
}

/** How long a paced producer waits after sending `sent` events, to stay on its schedule. */
export function waitAfterSend({ rate }: Pacing, elapsedMs: number, sent: number): number {
  if (rate === undefined) return 0;
  return Math.max(0, (sent / rate) * 1000 - elapsedMs);
}

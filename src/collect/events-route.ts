import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { json, type RouteHandler } from '../http/stage-server.ts';
import type { CollectorMetrics } from './collector-metrics.ts';
import type { EventIntake } from './event-intake.ts';
import { postedEvents, UnreadableBodyError } from './posted-events.ts';
import { CollectorBusyError, CollectorUnavailableError } from './produce-batcher.ts';

interface BodyToTake {
  body: Buffer;
  contentType: string | undefined;
  answer: (status: number, body: unknown, headers?: Record<string, string>) => void;
  retryAfter: Record<string, string>;
}

export interface EventsRouteOptions {
  intake: Pick<EventIntake, 'take'>;
  metrics: CollectorMetrics;
  logger: Logger;
  /** Request bodies over this many bytes are refused whole (413). */
  maxBodyBytes: number;
  /** Events per request, at most (413 beyond). */
  maxEvents: number;
  /** Bytes of request bodies held at once, across requests (429 beyond). */
  maxBufferedBytes: number;
  /** Bearer tokens any of which a request must carry; none: no authentication. */
  tokens: readonly string[];
  /** Origins a browser may post from (`*`: any); none: no CORS headers. */
  corsOrigins: readonly string[];
  retryAfterSeconds: () => number;
  /** Set once the collector is stopping: new requests are answered 503. */
  stopping: () => boolean;
}

/**
 * `POST /events`: the collector's one door. Answers, by HTTP status: 200
 * every event accepted; 207 some accepted, the refused ones listed; 422
 * none accepted, each refused one listed with its field; 400 a body that is
 * not JSON; 401 no valid bearer token; 413 too large; 415 a compressed body;
 * 429 busy and 503 Kafka unavailable or stopping, both with `Retry-After`
 * and none of the request's events accepted. Accepted means in Kafka.
 */
export function eventsRoute(options: EventsRouteOptions): RouteHandler {
  const tokenDigests = options.tokens.map(digest);
  const authorized = (request: IncomingMessage) => {
    if (tokenDigests.length === 0) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match === null) return false;
    const given = digest(match[1]!);
    // Every token compared, in constant time each: the answer's timing says nothing of which.
    return tokenDigests.map((token) => timingSafeEqual(token, given)).includes(true);
  };

  const buffered = { bytes: 0 };
  return async (request, response) => {
    const started = performance.now();
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
      json(response, status, body);
      options.metrics.requests.inc({ code: String(status) });
      options.metrics.requestSeconds.observe((performance.now() - started) / 1000);
    };
    corsHeaders(request, response, options.corsOrigins);
    if (request.method === 'OPTIONS') {
      response.writeHead(204).end();
      return;
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST, OPTIONS');
      answer(405, { error: 'POST events here' });
      return;
    }
    const retryAfter = { 'retry-after': String(options.retryAfterSeconds()) };
    if (options.stopping()) {
      options.metrics.refused.inc({ reason: 'unavailable' });
      answer(503, { accepted: 0, error: 'the collector is stopping' }, retryAfter);
      return;
    }
    if (!authorized(request)) {
      options.metrics.refused.inc({ reason: 'unauthorized' });
      answer(401, { error: 'a valid bearer token is required' }, { 'www-authenticate': 'Bearer' });
      request.resume();
      return;
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      answer(415, { error: `content-encoding ${encoding} is not read; post the body uncompressed` });
      request.resume();
      return;
    }
    const tooManyBodies = () => {
      options.metrics.refused.inc({ reason: 'busy' });
      answer(
        429,
        { accepted: 0, error: 'the collector holds as many request bodies as it may; send again later' },
        { ...retryAfter, connection: 'close' },
      );
    };
    if (buffered.bytes + Number(request.headers['content-length'] ?? 0) > options.maxBufferedBytes) {
      tooManyBodies();
      return;
    }
    const body = await readBody(request, options.maxBodyBytes, { buffered, maxBuffered: options.maxBufferedBytes, gauge: options.metrics.bodyBytes });
    // The client went away mid-body: nobody to answer, nothing to log.
    if (body === 'aborted') return;
    if (body === 'busy') {
      tooManyBodies();
      return;
    }
    if (body === undefined) {
      options.metrics.refused.inc({ reason: 'too_large' });
      answer(413, { accepted: 0, error: `the body is over ${options.maxBodyBytes} bytes; post fewer events per request` }, { connection: 'close' });
      return;
    }
    try {
      await takeBody({ body, contentType: request.headers['content-type'], answer, retryAfter });
    } finally {
      options.metrics.bodyBytes.set((buffered.bytes -= body.length));
    }
  };

  /** A body read whole: its events checked, encoded and handed to Kafka, the request answered. */
  async function takeBody({ body, contentType, answer, retryAfter }: BodyToTake): Promise<void> {
    let events: unknown[];
    try {
      // JSON is UTF-8 text: other bytes would be read as U+FFFD and stored changed.
      if (!isUtf8(body)) throw new UnreadableBodyError('the body is not UTF-8 text, which JSON is');
      events = postedEvents(body.toString('utf8'), contentType);
    } catch (error) {
      if (!(error instanceof UnreadableBodyError)) throw error;
      options.metrics.refused.inc({ reason: 'unreadable' });
      answer(400, { accepted: 0, error: error.message });
      return;
    }
    if (events.length > options.maxEvents) {
      options.metrics.refused.inc({ reason: 'too_large' }, events.length);
      answer(413, { accepted: 0, error: `${events.length} events in one request; at most ${options.maxEvents}` });
      return;
    }
    try {
      const { accepted, refused } = await options.intake.take(events);
      options.metrics.accepted.inc(accepted);
      for (const { reason } of refused) options.metrics.refused.inc({ reason });
      const status = refused.length === 0 ? 200 : accepted === 0 ? 422 : 207;
      answer(status, { accepted, refused: refused.map(({ index, field, error }) => ({ index, field, error })) });
    } catch (error) {
      const busy = error instanceof CollectorBusyError;
      if (!busy && !(error instanceof CollectorUnavailableError)) throw error;
      options.metrics.refused.inc({ reason: busy ? 'busy' : 'unavailable' }, events.length);
      if (!busy) options.logger.warn({ err: error, events: events.length }, 'answered 503: Kafka did not take the events');
      // Kafka's own error names brokers and internals: the client is told what to do, the log keeps the rest.
      const error503 = 'Kafka did not acknowledge the events in time; none of them was accepted: send them again';
      answer(busy ? 429 : 503, { accepted: 0, error: busy ? error.message : error503 }, retryAfter);
    }
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function corsHeaders(request: IncomingMessage, response: ServerResponse, origins: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin === undefined || origins.length === 0) return;
  const any = origins.includes('*');
  if (!any && !origins.includes(origin)) return;
  response.setHeader('access-control-allow-origin', any ? '*' : origin);
  response.setHeader('vary', 'origin');
  response.setHeader('access-control-allow-methods', 'POST, OPTIONS');
  response.setHeader('access-control-allow-headers', 'content-type, authorization');
  response.setHeader('access-control-max-age', '600');
}

/**
 * The body's bytes; undefined once it passes `limit` bytes; 'busy' once the
 * bodies held across requests pass `maxBuffered`; 'aborted' when the client
 * went away. The rest is
 * left unread: the answer closes the connection (its socket must stay open
 * until the answer is written, which ending the stream would not allow).
 */
function readBody(
  request: IncomingMessage,
  limit: number,
  { buffered, maxBuffered, gauge }: { buffered: { bytes: number }; maxBuffered: number; gauge: { set(value: number): void } },
): Promise<Buffer | undefined | 'aborted' | 'busy'> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: Buffer | undefined | 'aborted' | 'busy') => {
      // A body read stays counted until its request is answered (the route gives it back).
      if (!(outcome instanceof Buffer)) gauge.set((buffered.bytes -= size));
      request.off('data', onData).off('end', onEnd).off('error', onError);
      if (outcome !== 'aborted' && !(outcome instanceof Buffer)) request.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      gauge.set((buffered.bytes += chunk.length));
      if (size > limit) return settle(undefined);
      // Bodies held at once across requests are bounded: slow bodies from many clients cannot fill the heap.
      if (buffered.bytes > maxBuffered) return settle('busy');
      chunks.push(chunk);
    };
    const onEnd = () => settle(Buffer.concat(chunks));
    const onError = () => settle('aborted');
    request.on('data', onData).on('end', onEnd).once('error', onError);
  });
}

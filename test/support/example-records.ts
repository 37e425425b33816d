import { randomBytes } from 'node:crypto';
import type { Pipeline } from '../../src/pipeline/spec.ts';

/** The example pipeline's event `n` as extract writes it (and load forwards it): the raw fields plus its source position. */
export function extractedPageview(pipeline: Pipeline, n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: `e${n}`,
    userId: `u${n}`,
    url: `https://shop.example.com/products?utm_source=news&n=${n}`,
    referrer: null,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    ip: '203.0.113.9',
    ts: 1_767_225_600_000 + n,
    keltSourceTopic: pipeline.topics.raw,
    keltSourcePartition: 7,
    keltSourceOffset: n,
    keltIngestedAt: 1_767_225_600_500,
    ...overrides,
  };
}

/**
 * Random bytes that are not the registry's wire format: a random first byte
 * is its magic byte 0 one time in 256, and the noise then reads as a frame
 * with an unknown schema id (unknown_schema, not undecodable).
 */
export function noise(length: number): Buffer {
  return Buffer.concat([Buffer.from([0xff]), randomBytes(length - 1)]);
}

import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isbot } from 'isbot';
import { LRUCache } from 'lru-cache';
import { UAParser } from 'ua-parser-js';
import type { TransformOutput } from '../src/transform/contract.ts';

/**
 * The pageviews transform: user agent → browser/OS/device, URL → normalised
 * URL and UTM parameters, IP → anonymised (last octet / last 80 bits zeroed)
 * and a salted SHA-256, bots flagged. Runs in the transform stage's worker
 * pool; it is the CPU-heavy workload of kelt's benchmarks.
 *
 * The salt comes from KELT_PAGEVIEWS_IP_SALT; without it a fixed demo salt is
 * used, which is fine for the demo and wrong for production.
 */
const salt = process.env.KELT_PAGEVIEWS_IP_SALT ?? 'kelt-demo-salt';
const utmKeys = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
const trackingParams = new Set<string>([...utmKeys, 'gclid', 'fbclid', 'msclkid', '_ga']);

interface PageView {
  eventId: string;
  userId: string;
  url: string;
  referrer: string | null;
  userAgent: string;
  ip: string;
  ts: number;
}

interface Agent {
  browser_name: string | null;
  browser_version: string | null;
  os_name: string | null;
  os_version: string | null;
  device_type: string;
  is_bot: boolean;
}

/**
 * What a user agent string says, remembered per worker: a site's traffic
 * comes from a few thousand distinct agents, and parsing one (ua-parser-js's
 * and isbot's regular expressions) was most of this transform's time.
 */
const agents = new LRUCache<string, Agent>({ max: 10_000 });

function agentOf(userAgent: string): Agent {
  let agent = agents.get(userAgent);
  if (agent === undefined) {
    const { browser, os, device } = new UAParser(userAgent).getResult();
    agent = {
      browser_name: browser.name ?? null,
      browser_version: browser.version ?? null,
      os_name: os.name ?? null,
      os_version: os.version ?? null,
      device_type: device.type ?? 'desktop',
      is_bot: isbot(userAgent),
    };
    agents.set(userAgent, agent);
  }
  return agent;
}

function parseUrl(raw: string): URL | undefined {
  return URL.canParse(raw) ? new URL(raw) : undefined;
}

/** Lower-case host, no default port, no fragment, no tracking parameters, sorted query. */
function normaliseUrl(url: URL): string {
  const query = [...url.searchParams].filter(([key]) => !trackingParams.has(key.toLowerCase()));
  query.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const search = new URLSearchParams(query).toString();
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  return `${url.protocol}//${url.host.toLowerCase()}${path}${search === '' ? '' : `?${search}`}`;
}

function anonymiseIp(ip: string): string | null {
  switch (isIP(ip)) {
    case 4:
      return ip.replace(/\.\d+$/, '.0');
    case 6: {
      const groups = expandIpv6(ip);
      return [...groups.slice(0, 3), '0', '0', '0', '0', '0'].join(':');
    }
    default:
      return null;
  }
}

function expandIpv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return (ip.includes('::') ? [...left, ...zeros, ...right] : left).map((group) => group.replace(/^0+(?=.)/, ''));
}

const transform = (record: Record<string, unknown>): TransformOutput => {
  const event = record as unknown as PageView;
  const url = parseUrl(event.url);
  if (url === undefined) throw new Error(`url is not a URL: ${event.url.slice(0, 200)}`);
  const referrer = event.referrer === null ? undefined : parseUrl(event.referrer);
  const utm = Object.fromEntries(utmKeys.map((key) => [key, url.searchParams.get(key)]));
  return {
    fct_pageviews: {
      event_id: event.eventId,
      user_id: event.userId,
      event_time: event.ts,
      url_host: url.hostname.toLowerCase(),
      url_path: url.pathname,
      url_normalized: normaliseUrl(url),
      ...utm,
      referrer_host: referrer?.hostname.toLowerCase() ?? null,
      ...agentOf(event.userAgent),
      ip_anonymized: anonymiseIp(event.ip),
      ip_hash: createHash('sha256').update(salt).update(event.ip).digest('hex'),
    },
  };
};

export default transform;

/** A deleted pageview (a record the spec's staging.delete rule matches) leaves the model too. */
export const remove = (event: Record<string, unknown>) => ({ fct_pageviews: { event_id: event.eventId } });

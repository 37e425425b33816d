import type { GeneratorFunction } from '../src/transform/contract.ts';

/**
 * Sample clickstream events for `kelt produce --generate`: a few thousand
 * users browsing a shop, from campaigns, with real-world user agents and
 * some bots. Deterministic in the sequence number, so runs are comparable.
 */
const agents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
];
const paths = ['/', '/products', '/products/shoes', '/products/shoes/trail-runner', '/cart', '/checkout', '/blog/how-to-choose', '/about'];
const campaigns = [
  '',
  '?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale',
  '?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=running+shoes&gclid=abc123',
  '?utm_source=facebook&utm_medium=social&utm_campaign=launch&utm_content=video',
  '?ref=partner&page=2',
];
const referrers = [null, 'https://www.google.com/search?q=shoes', 'https://news.example.org/article', 'https://Shop.Example.com/products'];

/** A small integer hash, so that fields vary independently of each other. */
function mix(n: number, salt: number): number {
  let h = Math.imul(n ^ salt, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

const generate: GeneratorFunction = (sequence) => {
  const user = mix(sequence, 1) % 5_000;
  const ipv6 = mix(sequence, 6) % 10 === 0;
  return {
    eventId: `pv-${sequence.toString(36).padStart(8, '0')}-${mix(sequence, 0).toString(36)}`,
    userId: `u${user}`,
    url: `https://Shop.Example.com${paths[mix(sequence, 2) % paths.length]}${campaigns[mix(sequence, 3) % campaigns.length]}#top`,
    referrer: referrers[mix(sequence, 4) % referrers.length] ?? null,
    userAgent: agents[mix(user, 5) % agents.length],
    ip: ipv6
      ? `2001:db8:${(user % 65536).toString(16)}::${(mix(sequence, 7) % 65536).toString(16)}`
      : `198.51.${user % 256}.${mix(sequence, 7) % 256}`,
    ts: Date.now(),
  };
};

export default generate;

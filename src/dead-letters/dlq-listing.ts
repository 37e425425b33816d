import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import { isUtf8 } from 'node:buffer';
import type { Pipeline } from '../pipeline/spec.ts';
import type { SchemaRegistryClient } from '../registry/client.ts';
import { MAGIC_BYTE } from '../registry/wire-format.ts';
import type { Connections } from '../runtime/connections.ts';
import { redriveRefusal, type DeadLetterRecord } from './dead-letter-record.ts';
import { readDeadLetters, redriveGroupId, redrivenUpTo } from './dlq-reader.ts';
import { matches, type LetterFilter } from './letter-filter.ts';

/** Where a dead letter stands: waiting, redriven, or one that cannot go back. */
export type LetterState = 'waiting' | 'redriven' | 'not redrivable';

export interface ListedLetter {
  letter: DeadLetterRecord;
  state: LetterState;
}

export interface DeadLetterListing {
  /** Matching letters per stage/reason and state. */
  counts: Map<string, Record<LetterState, number>>;
  /** The first `limit` matching letters, in partition and offset order. */
  letters: ListedLetter[];
  matched: number;
}

/** `kelt dlq list`: the DLQ's letters that match, counted by stage, reason and state, the first `limit` of them listed. */
export async function listDeadLetters(pipeline: Pipeline, connections: Connections, filter: LetterFilter, limit: number): Promise<DeadLetterListing> {
  const admin = await openClusterAdmin(connections.kafka);
  try {
    const redriven = await redrivenUpTo(admin, pipeline);
    const listing: DeadLetterListing = { counts: new Map(), letters: [], matched: 0 };
    await readDeadLetters({ kafka: connections.kafka, admin }, pipeline, async (partition, letters) => {
      for (const letter of letters) {
        if (!matches(filter, letter)) continue;
        const below = redriven.get(redriveGroupId(pipeline, letter.stage, letter.reason))?.get(partition);
        const state: LetterState =
          redriveRefusal(letter) !== undefined ? 'not redrivable' : below !== undefined && letter.offset < below ? 'redriven' : 'waiting';
        const key = `${letter.stage}/${letter.reason}`;
        const counts = listing.counts.get(key) ?? { waiting: 0, redriven: 0, 'not redrivable': 0 };
        counts[state] += 1;
        listing.counts.set(key, counts);
        listing.matched += 1;
        if (listing.letters.length < limit) listing.letters.push({ letter, state });
      }
    });
    listing.letters.sort((a, b) => a.letter.partition - b.letter.partition || Number(a.letter.offset - b.letter.offset));
    return listing;
  } finally {
    await admin.close();
  }
}

export function formatListing(listing: DeadLetterListing): string {
  if (listing.matched === 0) return 'no dead letters match';
  const lines = ['stage/reason                         waiting  redriven  not redrivable'];
  for (const [key, counts] of [...listing.counts].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      `${key.padEnd(36)} ${String(counts.waiting).padStart(7)}  ${String(counts.redriven).padStart(8)}  ${String(counts['not redrivable']).padStart(14)}`,
    );
  }
  lines.push('', 'letter     failed at                 stage/reason                 from                     key / error');
  for (const { letter, state } of listing.letters) {
    const from = letter.original === undefined ? '?' : `${letter.original.topic}[${letter.original.partition}]@${letter.original.offset}`;
    lines.push(
      [
        `${letter.partition}@${letter.offset}`.padEnd(10),
        (letter.failedAt?.toISOString() ?? '?').padEnd(25),
        `${letter.stage}/${letter.reason}`.padEnd(28),
        from.padEnd(24),
        `${printable(letter.key)}: ${oneLine(letter.error, 100)}${state === 'waiting' ? '' : ` (${state})`}`,
      ].join(' '),
    );
  }
  if (listing.letters.length < listing.matched) lines.push(`… ${listing.matched - listing.letters.length} more (--limit)`);
  return lines.map(terminalSafe).join('\n');
}

/** The listing as JSON: keys, values and headers as UTF-8 text where they are text, base64 otherwise. */
export function listingJson(listing: DeadLetterListing): unknown {
  const bytes = (value: Buffer | null) => {
    if (value === null) return null;
    return isUtf8(value) ? { text: value.toString('utf8') } : { base64: value.toString('base64') };
  };
  return {
    matched: listing.matched,
    counts: Object.fromEntries(listing.counts),
    letters: listing.letters.map(({ letter, state }) => ({
      ...letter,
      offset: letter.offset.toString(),
      original: letter.original === undefined ? undefined : { ...letter.original, offset: letter.original.offset.toString() },
      key: bytes(letter.key),
      value: bytes(letter.value),
      headers: Object.fromEntries(Object.entries(letter.headers).map(([name, value]) => [name, bytes(value)])),
      state,
    })),
  };
}

/** `kelt dlq show`: one dead letter in full, its record decoded where it decodes. */
export async function showDeadLetter(pipeline: Pipeline, connections: Connections, partition: number, offset: bigint): Promise<string | undefined> {
  const admin = await openClusterAdmin(connections.kafka);
  let found: DeadLetterRecord | undefined;
  try {
    await readDeadLetters(
      { kafka: connections.kafka, admin },
      pipeline,
      async (_partition, letters) => {
        found ??= letters[0];
      },
      { partition, offset },
    );
  } finally {
    await admin.close();
  }
  if (found === undefined) return undefined;
  const letter = found;
  const lines = [
    `dead letter ${letter.partition}@${letter.offset} of ${pipeline.topics.dlq}`,
    `  stage:     ${letter.stage}`,
    `  reason:    ${letter.reason}`,
    `  failed at: ${letter.failedAt?.toISOString() ?? '?'}`,
    `  from:      ${letter.original === undefined ? '?' : `${letter.original.topic}[${letter.original.partition}]@${letter.original.offset}`}`,
    `  key:       ${printable(letter.key)}`,
    `  error:     ${letter.error}`,
    ...Object.entries(letter.headers).map(([name, value]) => `  header ${name}: ${printable(value)}`),
    `  redrive:   ${redriveRefusal(letter) === undefined ? 'possible' : `not possible: ${redriveRefusal(letter)}`}`,
    '  record:',
    ...(await describeValue(letter, connections.registry)).split('\n').map((line) => `    ${line}`),
  ];
  return lines
    .flatMap((line) => line.split('\n'))
    .map(terminalSafe)
    .join('\n');
}

/**
 * The record decoded where it decodes: Avro through the registry (every
 * topic but a JSON source's raw one), JSON, or else its bytes in hex.
 */
async function describeValue(letter: DeadLetterRecord, registry: SchemaRegistryClient): Promise<string> {
  const { value } = letter;
  if (value === null) return letter.valueOmitted ?? '(no value)';
  if (value.length > 5 && value[0] === MAGIC_BYTE) {
    const decoded = await registry.decodeAvro(value).then(
      (record) => ({ record }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    );
    if ('record' in decoded) return JSON.stringify(decoded.record, jsonSafe, 2);
    return `does not decode as Avro (${decoded.error}); ${value.length} bytes: ${value.subarray(0, 256).toString('hex')}`;
  }
  if (isUtf8(value)) {
    const text = value.toString('utf8');
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return `text, not JSON (${error.message}): ${oneLine(text, 2_000)}`;
    }
  }
  return `${value.length} bytes: ${value.subarray(0, 256).toString('hex')}${value.length > 256 ? '…' : ''}`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return `0x${Buffer.from((value as { data: number[] }).data).toString('hex')}`;
  }
  return value;
}

function printable(bytes: Buffer | null): string {
  if (bytes === null) return '(none)';
  // Control characters (a NUL, an escape) would garble the terminal: such keys print as hex.
  const readable = isUtf8(bytes) && !bytes.some((byte) => byte < 0x20);
  return readable ? oneLine(bytes.toString('utf8'), 60) : `0x${bytes.subarray(0, 30).toString('hex')}`;
}

/**
 * A line as the operator's terminal may show it: control characters (C0,
 * DEL, C1) a producer put in a key, a header, a value or an error would
 * move the cursor, retitle the window or worse; each is written as \xNN.
 */
export function terminalSafe(line: string): string {
  let safe = '';
  for (const character of line) {
    const code = character.charCodeAt(0);
    safe += isControl(code) ? `\\x${code.toString(16).padStart(2, '0')}` : character;
  }
  return safe;
}

/** C0, DEL and C1. */
export function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

import { ConfigError, deadLetterReasons } from '../errors.ts';
import type { DeadLetterRecord } from './dead-letter-record.ts';

/** Which dead letters a `kelt dlq` command is about; every part given must match. */
export interface LetterFilter {
  reasons?: readonly string[];
  stage?: string;
  /** Failed at or after this time. */
  since?: Date;
  /** Failed at or before this time. */
  until?: Date;
  /** The topic the record failed in. */
  originalTopic?: string;
}

export function matches(filter: LetterFilter, letter: DeadLetterRecord): boolean {
  if (filter.reasons !== undefined && !filter.reasons.includes(letter.reason)) return false;
  if (filter.stage !== undefined && letter.stage !== filter.stage) return false;
  if (filter.originalTopic !== undefined && letter.original?.topic !== filter.originalTopic) return false;
  if (filter.since !== undefined && (letter.failedAt === undefined || letter.failedAt < filter.since)) return false;
  if (filter.until !== undefined && (letter.failedAt === undefined || letter.failedAt > filter.until)) return false;
  return true;
}

/** The filter from command-line options, refusing a reason kelt never writes or a time that does not parse. */
export function letterFilter(options: { reason?: string[]; stage?: string; since?: string; until?: string; topic?: string }): LetterFilter {
  const unknown = (options.reason ?? []).filter((reason) => !(deadLetterReasons as readonly string[]).includes(reason));
  if (unknown.length > 0) throw new ConfigError(`--reason ${unknown.join(', ')}: kelt's reasons are ${deadLetterReasons.join(', ')}`);
  const time = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new ConfigError(`--${name} ${text} is not an ISO-8601 time`);
    return new Date(ms);
  };
  return {
    ...(options.reason === undefined ? {} : { reasons: options.reason }),
    ...(options.stage === undefined ? {} : { stage: options.stage }),
    ...(options.topic === undefined ? {} : { originalTopic: options.topic }),
    ...(options.since === undefined ? {} : { since: time('since', options.since) }),
    ...(options.until === undefined ? {} : { until: time('until', options.until) }),
  };
}

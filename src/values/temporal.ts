/**
 * Exact dates, times and timestamps: ISO-8601 text ↔ Avro's integers (days
 * since the epoch; milli- or microseconds since midnight or the epoch).
 * JavaScript's Date holds milliseconds only, so microseconds are carried as
 * integers and formatted here, never through a Date.
 */
export type TimeUnit = 'millis' | 'micros';

export class TemporalFormatError extends Error {
  override readonly name = 'TemporalFormatError';
}

const perSecond: Record<TimeUnit, number> = { millis: 1_000, micros: 1_000_000 };
const digitsOf: Record<TimeUnit, number> = { millis: 3, micros: 6 };
const DAY_MS = 86_400_000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** 'YYYY-MM-DD' → days since 1970-01-01; rejects dates that do not exist (2023-02-29). */
export function daysOf(text: string): number {
  const match = DATE.exec(text);
  if (match === null) throw new TemporalFormatError(`${JSON.stringify(text)} is not a date (YYYY-MM-DD)`);
  return epochDay(text, Number(match[1]), Number(match[2]), Number(match[3]));
}

export function dateText(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

/** 'HH:MM[:SS[.fraction]]' → units since midnight. */
export function timeOfDay(text: string, unit: TimeUnit): number {
  const match = TIME.exec(text);
  if (match === null) throw new TemporalFormatError(`${JSON.stringify(text)} is not a time of day (HH:MM:SS[.fraction])`);
  const [, h, m, s = '0', fraction = ''] = match;
  if (Number(h) > 23 || Number(m) > 59 || Number(s) > 59) throw new TemporalFormatError(`${text} is not a time of day`);
  return (Number(h) * 3600 + Number(m) * 60 + Number(s)) * perSecond[unit] + fractionIn(fraction, unit, text);
}

export function timeText(units: number, unit: TimeUnit): string {
  if (!Number.isSafeInteger(units) || units < 0 || units >= 86_400 * perSecond[unit]) {
    throw new TemporalFormatError(`${units} is not a time of day in ${unit}`);
  }
  const seconds = Math.floor(units / perSecond[unit]);
  const fraction = units - seconds * perSecond[unit];
  const hms = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return `${hms}.${String(fraction).padStart(digitsOf[unit], '0')}`;
}

/**
 * An ISO-8601 timestamp → units since the epoch. Text without a zone is
 * read as UTC; `local` (Avro's local-timestamp) refuses a zone, since a
 * local timestamp names no instant.
 */
export function epochOf(text: string, unit: TimeUnit, local = false): number | bigint {
  const match = TIMESTAMP.exec(text);
  if (match === null) throw new TemporalFormatError(`${JSON.stringify(text)} is not an ISO-8601 timestamp`);
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone] = match;
  if (local && zone !== undefined) throw new TemporalFormatError(`${text} names a zone; a local timestamp has none`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new TemporalFormatError(`${text} is not a time of day`);
  const days = epochDay(text, Number(y), Number(mo), Number(d));
  const seconds = days * 86_400 + Number(h) * 3600 + Number(mi) * 60 + Number(s) - zoneSeconds(zone);
  const units = BigInt(seconds) * BigInt(perSecond[unit]) + BigInt(fractionIn(fraction, unit, text));
  return units >= -MAX_SAFE && units <= MAX_SAFE ? Number(units) : units;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An ISO-8601 timestamp → milliseconds since the epoch, any finer fraction
 * cut off (so floored: the fraction only ever adds). What an aggregate's
 * window needs, once per row and aggregate, without epochOf's bigints.
 */
export function epochMillisFloor(text: string): number {
  const match = TIMESTAMP.exec(text);
  if (match === null) throw new TemporalFormatError(`${JSON.stringify(text)} is not an ISO-8601 timestamp`);
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone] = match;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new TemporalFormatError(`${text} is not a time of day`);
  const seconds = dayOf(text, y!, mo!, d!) * 86_400 + Number(h) * 3600 + Number(mi) * 60 + Number(s) - zoneSeconds(zone);
  return seconds * 1000 + (fraction === '' ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')));
}

/** Rows of a batch mostly share their day: the last date's day number is kept. */
let lastDate = '';
let lastDateDay = 0;

function dayOf(text: string, y: string, mo: string, d: string): number {
  const date = `${y}-${mo}-${d}`;
  if (date !== lastDate) {
    lastDateDay = epochDay(text, Number(y), Number(mo), Number(d));
    lastDate = date;
  }
  return lastDateDay;
}

/** Units since the epoch → 'YYYY-MM-DD HH:MM:SS.fff[fff]' (UTC), as MySQL's DATETIME reads it. */
export function timestampText(units: number | bigint, unit: TimeUnit): string {
  if (typeof units === 'number') {
    if (!Number.isSafeInteger(units)) throw new TemporalFormatError(`${units} is not a timestamp in ${unit}`);
    if (unit === 'millis') return datetimeText(units, '', units, unit);
    // Integer arithmetic: a double quotient of microseconds near 2^53 rounds across the millisecond.
    const micros = ((units % 1000) + 1000) % 1000;
    return datetimeText((units - micros) / 1000, String(micros).padStart(3, '0'), units, unit);
  }
  // Microseconds past the year 2255 exceed a double's integers: split them as a bigint.
  const ms = unit === 'millis' ? units : units / 1000n - (units % 1000n < 0n ? 1n : 0n);
  return datetimeText(Number(ms), unit === 'micros' ? String(units - ms * 1000n).padStart(3, '0') : '', units, unit);
}

/**
 * A row's timestamps mostly share their day: the day's text is kept from the
 * previous call, and the time of day is formatted by arithmetic
 * (Date#toISOString per value was 5% of load's CPU).
 */
let cachedDay = Number.NaN;
let cachedDayText = '';

function datetimeText(ms: number, micros: string, units: number | bigint, unit: TimeUnit): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    const iso = new Date(day * DAY_MS).toISOString();
    if (iso.length !== 24) throw new TemporalFormatError(`${units} ${unit} is outside the years 0000–9999`);
    cachedDayText = iso.slice(0, 10);
    cachedDay = day;
  }
  const inDay = ms - day * DAY_MS;
  const seconds = Math.floor(inDay / 1000);
  return `${cachedDayText} ${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}.${String(inDay % 1000).padStart(3, '0')}${micros}`;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

function epochDay(text: string, year: number, month: number, day: number): number {
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new TemporalFormatError(`${text} is not a date that exists`);
  }
  return Math.round(date.getTime() / DAY_MS);
}

function fractionIn(fraction: string, unit: TimeUnit, text: string): number {
  const digits = digitsOf[unit];
  if (/[^0]/.test(fraction.slice(digits))) throw new TemporalFormatError(`${text} is finer than ${unit}`);
  return Number(fraction.slice(0, digits).padEnd(digits, '0'));
}

function zoneSeconds(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60);
}

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type avro from 'avsc';
import { parse as parseCsv } from 'csv-parse';
import { ConfigError } from '../errors.ts';
import { parseExactJson } from '../values/exact-json.ts';
import type { GeneratorFunction } from '../transform/contract.ts';

export type Event = Record<string, unknown>;

/** Events from an NDJSON file, one JSON object per line (blank lines skipped). */
export async function* ndjsonEvents(path: string): AsyncGenerator<Event> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield parseExactJson(text) as Event;
    } catch (error) {
      throw new ConfigError(`${path}:${line} is not JSON: ${(error as Error).message}`);
    }
  }
}

/** Events from a CSV file with a header row; cells are converted to the schema's field types. */
export async function* csvEvents(path: string, schema: avro.schema.RecordType): AsyncGenerator<Event> {
  const parser = createReadStream(path).pipe(parseCsv({ columns: true, skip_empty_lines: true, trim: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    yield Object.fromEntries(schema.fields.map((field) => [field.name, cellValue(row[field.name], field.type)]));
  }
}

function cellValue(cell: string | undefined, type: unknown): unknown {
  const nullable = Array.isArray(type) && type.includes('null');
  if (cell === undefined || (cell === '' && nullable)) return null;
  const base = Array.isArray(type) ? type.find((branch) => branch !== 'null') : type;
  // Logical types take their text (ISO-8601, a decimal); a bare integer is in the type's unit.
  if (typeof base === 'object' && (base as { logicalType?: string }).logicalType !== undefined) {
    return /^-?\d+$/.test(cell) && (base as { logicalType: string }).logicalType !== 'decimal' ? Number(cell) : cell;
  }
  const name = typeof base === 'string' ? base : (base as { type?: string }).type;
  switch (name) {
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return Number(cell);
    case 'boolean':
      return cell === 'true' || cell === '1';
    default:
      return cell;
  }
}

/** `count` events from the pipeline's generator module. */
export async function* generatedEvents(generatorPath: string, count: number, start = 0): AsyncGenerator<Event> {
  const module = (await import(pathToFileURL(generatorPath).href)) as { default?: GeneratorFunction };
  if (typeof module.default !== 'function') throw new ConfigError(`${generatorPath} has no default export function`);
  for (let i = start; i < start + count; i++) yield module.default(i);
}

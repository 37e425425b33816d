import { parseExactJson } from '../values/exact-json.ts';

/** A request body that is not one of the shapes the collector reads. */
export class UnreadableBodyError extends Error {}

/**
 * The events of a request body: one JSON object, a JSON array of them, or
 * NDJSON (one object per line). The content type is not required:
 * `navigator.sendBeacon` posts `text/plain`. A body that is one JSON value
 * (pretty-printed or not) is read as such; otherwise, or when the type says
 * `application/x-ndjson`, it is read line by line.
 */
export function postedEvents(body: string, contentType: string | undefined): unknown[] {
  if (body.trim() === '') throw new UnreadableBodyError('the body is empty; post a JSON event, a JSON array of events or NDJSON');
  if (!/^application\/(x-)?ndjson\b/i.test(contentType ?? '')) {
    const whole = parsedOrUndefined(body);
    if (whole !== undefined) return Array.isArray(whole.value) ? whole.value : [whole.value];
    if (!body.trim().includes('\n')) return [parsed(body, 'the body')];
  }
  return body
    .split('\n')
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, number }) => parsed(line, `line ${number}`));
}

function parsedOrUndefined(text: string): { value: unknown } | undefined {
  try {
    return { value: parseExactJson(text) };
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw tooDeep(error, 'the body');
  }
}

function parsed(text: string, where: string): unknown {
  try {
    return parseExactJson(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw tooDeep(error, where);
    throw new UnreadableBodyError(`${where} is not JSON: ${error.message}`, { cause: error });
  }
}

/** JSON nested deeper than the parser's stack: the client's body, not the collector's failure. */
function tooDeep(error: unknown, where: string): unknown {
  return error instanceof RangeError ? new UnreadableBodyError(`${where} is nested too deeply to read`, { cause: error }) : error;
}

/**
 * JSON numbers read from their digits. JSON.parse turns every number into a
 * double: `12345678901234567.8901` becomes 12345678901234568 and a 64-bit id
 * past 2^53 another id, silently. Here a number whose double does not print
 * as its own text, or is an integer past 2^53, stays that text (a JsonNumberText) until a schema says
 * what it is (src/avro/json-numbers.ts): a decimal takes its digits, a long
 * its exact integer, a double the nearest double.
 */
export class JsonNumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  /** Written back as the same JSON number. */
  toJSON(): unknown {
    return rawJson(this.text);
  }
}

// Node has JSON.rawJSON (V8 11.4+); TypeScript's lib does not declare it yet.
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

type Reviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

/** Past 2^53 an integer's double may print as its digits and still be a neighbour's (2^53 + 1 reads as 2^53). */
const keepDigits: Reviver = (_key, value, context) =>
  typeof value === 'number' &&
  context.source !== undefined &&
  (context.source !== String(value) || (Number.isInteger(value) && !Number.isSafeInteger(value)))
    ? new JsonNumberText(context.source)
    : value;

/** JSON.parse, with numbers a double does not print as their own text kept as JsonNumberText. */
export function parseExactJson(text: string): unknown {
  return JSON.parse(text, keepDigits as Parameters<typeof JSON.parse>[1]);
}

import { describe, expect, it } from 'vitest';
import { postedEvents, UnreadableBodyError } from '../../../src/collect/posted-events.ts';

describe('postedEvents', () => {
  it('reads one object, an array, pretty-printed JSON and NDJSON', () => {
    expect(postedEvents('{"a":1}', 'application/json')).toEqual([{ a: 1 }]);
    expect(postedEvents('[{"a":1},{"a":2}]', undefined)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(postedEvents('{\n  "a": 1\n}\n', 'text/plain')).toEqual([{ a: 1 }]);
    expect(postedEvents('{"a":1}\n\n{"a":2}\r\n', undefined)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(postedEvents('{"a":1}', 'application/x-ndjson')).toEqual([{ a: 1 }]);
  });

  it('keeps non-object values for the schema check to refuse one by one', () => {
    expect(postedEvents('[1, "x", null]', undefined)).toEqual([1, 'x', null]);
  });

  it('names the line that is not JSON', () => {
    expect(() => postedEvents('{"a":1}\n{"a":\n', undefined)).toThrow(/line 2 is not JSON/);
    expect(() => postedEvents('{"a":', 'application/json')).toThrow(/the body is not JSON/);
    expect(() => postedEvents('  \n', undefined)).toThrow(UnreadableBodyError);
  });
});

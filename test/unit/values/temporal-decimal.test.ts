import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalText, fromTwosComplement, toTwosComplement, unscaledOf } from '../../../src/values/decimal.ts';
import { dateText, daysOf, epochMillisFloor, epochOf, timeOfDay, timestampText, timeText } from '../../../src/values/temporal.ts';

describe('decimals', () => {
  it('round-trips through Avro’s two’s complement at the edges', () => {
    for (const text of ['0.00', '-0.01', '0.01', '9999999999.99', '-9999999999.99', '-1.00', '127.00', '-128.00', '1.28']) {
      const unscaled = unscaledOf(text, 12, 2);
      expect(decimalText(fromTwosComplement(toTwosComplement(unscaled)), 2)).toBe(text);
    }
    expect(toTwosComplement(-1n)).toEqual(Buffer.from([0xff]));
    expect(toTwosComplement(128n)).toEqual(Buffer.from([0x00, 0x80]));
    expect(toTwosComplement(-1n, 4)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(fromTwosComplement(Buffer.alloc(0))).toBe(0n);
  });

  it('never rounds: extra nonzero places, too many digits and exponents are refused', () => {
    expect(unscaledOf('1.230', 5, 2)).toBe(123n);
    expect(unscaledOf('.5', 5, 2)).toBe(50n);
    expect(() => unscaledOf('1.234', 5, 2)).toThrow(/more than 2 decimal places/);
    expect(() => unscaledOf('1234.5', 5, 2)).toThrow(/more than 5 digits/);
    expect(() => unscaledOf(1e21, 30, 0)).toThrow(/not a plain decimal/);
    expect(() => unscaledOf({}, 5, 2)).toThrow(/text or a number/);
  });
});

describe('dates, times and timestamps', () => {
  it('reads ISO-8601 exactly to the unit, with zones, leap days and dates before the epoch', () => {
    expect(epochOf('1970-01-01T00:00:00.000001Z', 'micros')).toBe(1);
    expect(epochOf('1969-12-31T23:59:59.999999Z', 'micros')).toBe(-1);
    expect(epochOf('2024-02-29 12:00:00+01:00', 'millis')).toBe(Date.UTC(2024, 1, 29, 11));
    expect(epochOf('2024-02-29T12:00', 'millis', true)).toBe(Date.UTC(2024, 1, 29, 12));
    expect(() => epochOf('2024-02-29T12:00Z', 'millis', true)).toThrow(/local timestamp has none/);
    expect(() => epochOf('2024-01-01T00:00:00.0001Z', 'millis')).toThrow(/finer than millis/);
    expect(() => epochOf('2023-02-29T00:00:00Z', 'millis')).toThrow(/not a date that exists/);
    expect(daysOf('0001-01-01')).toBe(-719_162);
    expect(dateText(-719_162)).toBe('0001-01-01');
    expect(timeOfDay('23:59:59.999999', 'micros')).toBe(86_399_999_999);
  });

  it('floors a timestamp to its millisecond as epochOf in micros would, before the epoch too', () => {
    expect(epochMillisFloor('1969-12-31 23:59:59.999500')).toBe(-1);
    expect(epochMillisFloor('2024-02-29T12:00:00.123999+01:00')).toBe(Date.UTC(2024, 1, 29, 11, 0, 0, 123));
    expect(epochMillisFloor('2024-02-29 12:00')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(() => epochMillisFloor('2023-02-29 00:00:00')).toThrow(/not a date that exists/);
    const micros = fc.bigInt({ min: -62_135_596_800_000_000n, max: 253_402_300_799_999_999n });
    fc.assert(
      fc.property(micros, (units) => {
        const floored = units / 1000n - (units % 1000n < 0n ? 1n : 0n);
        expect(epochMillisFloor(timestampText(units, 'micros'))).toBe(Number(floored));
      }),
      { numRuns: 5_000 },
    );
  });

  it('writes what MySQL’s DATETIME and TIME read back exactly', () => {
    expect(timestampText(-1, 'micros')).toBe('1969-12-31 23:59:59.999999');
    expect(timestampText(253_402_300_799_999, 'millis')).toBe('9999-12-31 23:59:59.999');
    expect(() => timestampText(253_402_300_800_000, 'millis')).toThrow(/outside the years/);
    expect(timestampText(-1_001, 'micros')).toBe('1969-12-31 23:59:59.998999');
    expect(timestampText(Number.MAX_SAFE_INTEGER, 'micros')).toBe('2255-06-05 23:47:34.740991');
    expect(timestampText(BigInt(Number.MAX_SAFE_INTEGER), 'micros')).toBe('2255-06-05 23:47:34.740991');
    expect(timestampText(253_402_300_799_999_999n, 'micros')).toBe('9999-12-31 23:59:59.999999');
    expect(timeText(0, 'millis')).toBe('00:00:00.000');
    expect(() => timeText(86_400_000, 'millis')).toThrow(/not a time of day/);
  });
});

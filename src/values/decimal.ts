/**
 * Exact decimals: text ↔ an unscaled integer at a scale. kelt hands decimals
 * to transforms, and to MySQL, as text ("-0.01"), never as a binary float.
 */
const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?$/;

export class DecimalFormatError extends Error {
  override readonly name = 'DecimalFormatError';
}

/**
 * The unscaled integer of `value` (text, a number or a bigint) at `scale`,
 * checked against `precision` digits. Digits past the scale must be zeros:
 * a decimal is never rounded on its way in.
 */
export function unscaledOf(value: unknown, precision: number, scale: number): bigint {
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
  if (text === undefined) throw new DecimalFormatError(`a decimal is text or a number, not ${describe(value)}`);
  const match = DECIMAL_TEXT.exec(text);
  if (match === null || (match[2] === '' && (match[3] ?? '') === '')) {
    throw new DecimalFormatError(`${JSON.stringify(text)} is not a plain decimal (digits, an optional point and sign, no exponent)`);
  }
  const [, sign, whole = '', fraction = ''] = match;
  const kept = fraction.slice(0, scale);
  if (/[^0]/.test(fraction.slice(scale))) {
    throw new DecimalFormatError(`${text} has more than ${scale} decimal place${scale === 1 ? '' : 's'}`);
  }
  const digits = `${whole}${kept.padEnd(scale, '0')}`.replace(/^0+(?=\d)/, '');
  if (digits.replace(/^0+/, '').length > precision) {
    throw new DecimalFormatError(`${text} has more than ${precision} digits (decimal(${precision},${scale}))`);
  }
  const unscaled = BigInt(digits === '' ? '0' : digits);
  return sign === '-' ? -unscaled : unscaled;
}

/** An unscaled integer at `scale` as plain text with exactly `scale` decimals. */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/** Big-endian two's complement (Avro's decimal bytes) → integer. */
export function fromTwosComplement(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  if ((bytes[0]! & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** Integer → big-endian two's complement, in the fewest bytes, or exactly `size` (a fixed). */
export function toTwosComplement(value: bigint, size?: number): Buffer {
  let length = 1;
  while (value < -(1n << BigInt(length * 8 - 1)) || value >= 1n << BigInt(length * 8 - 1)) length++;
  if (size !== undefined) {
    if (length > size) throw new DecimalFormatError(`${value} does not fit in ${size} bytes`);
    length = size;
  }
  const unsigned = value < 0n ? (1n << BigInt(length * 8)) + value : value;
  return Buffer.from(unsigned.toString(16).padStart(length * 2, '0'), 'hex');
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(String(value)).slice(0, 40)}`;
}

import { PermanentError } from '../errors.ts';

/**
 * The Confluent wire format: magic byte 0, the schema id as a big-endian
 * 32-bit integer, then the serialized payload.
 */
export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

export function frame(schemaId: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  out.writeUInt8(MAGIC_BYTE, 0);
  out.writeUInt32BE(schemaId, 1);
  out.set(payload, HEADER_LENGTH);
  return out;
}

export interface Framed {
  schemaId: number;
  payload: Buffer;
}

export function unframe(message: Buffer): Framed {
  if (message.length < HEADER_LENGTH || message.readUInt8(0) !== MAGIC_BYTE) {
    throw new PermanentError('not in the Confluent wire format (no magic byte 0 and schema id)', { reason: 'undecodable' });
  }
  return { schemaId: message.readUInt32BE(1), payload: message.subarray(HEADER_LENGTH) };
}

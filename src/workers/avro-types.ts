import type avro from 'avsc';
import { avroType } from '../avro/logical-types.ts';
import { PermanentError } from '../errors.ts';

/**
 * Avro types built from schema text, kept per text: a worker thread builds
 * each type once and reuses it for every task that names it.
 */
const types = new Map<string, avro.Type>();
const resolvers = new Map<string, avro.Resolver>();

export function typeOf(schemaText: string): avro.Type {
  let type = types.get(schemaText);
  if (type === undefined) {
    type = avroType(JSON.parse(schemaText) as avro.Schema);
    types.set(schemaText, type);
  }
  return type;
}

/** Reads data written with `writerText` as `readerText`; throws PermanentError when the two do not resolve. */
export function resolverOf(writerText: string, readerText: string): avro.Resolver {
  const key = `${writerText}\u0000${readerText}`;
  let resolver = resolvers.get(key);
  if (resolver === undefined) {
    try {
      resolver = typeOf(readerText).createResolver(typeOf(writerText));
    } catch (error) {
      throw new PermanentError(`the writer's schema cannot be read as the pipeline's schema: ${(error as Error).message}`, {
        reason: 'schema_violation',
      });
    }
    resolvers.set(key, resolver);
  }
  return resolver;
}

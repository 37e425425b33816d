import type avro from 'avsc';
import { avroType } from '../avro/logical-types.ts';

/**
 * Avro types built from schema text, kept per text: a worker thread builds
 * each type once and reuses it for every task that names it.
 */
const types = new Map<string, avro.Type>();
/** Per writer's text, per reader's text (a key of both texts joined was a copy of both per record). */
const resolvers = new Map<string, Map<string, avro.Resolver | undefined>>();

export function typeOf(schemaText: string): avro.Type {
  let type = types.get(schemaText);
  if (type === undefined) {
    type = avroType(JSON.parse(schemaText) as avro.Schema);
    types.set(schemaText, type);
  }
  return type;
}

/**
 * How to read data written with `writerText` as `readerText`: a resolver,
 * or undefined when Avro's rules cannot resolve the two (a type widened by
 * a newer writer, say long where the reader has int). The caller then reads
 * with the writer's schema and checks each value when it writes it with the
 * reader's: a producer may move to a newer schema before the pipeline's spec
 * does, and its values that fit still go through.
 */
export function resolverOf(writerText: string, readerText: string): avro.Resolver | undefined {
  let byReader = resolvers.get(writerText);
  if (byReader === undefined) {
    byReader = new Map();
    resolvers.set(writerText, byReader);
  }
  if (!byReader.has(readerText)) {
    let resolver: avro.Resolver | undefined;
    try {
      resolver = typeOf(readerText).createResolver(typeOf(writerText));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      resolver = undefined;
    }
    byReader.set(readerText, resolver);
  }
  return byReader.get(readerText);
}

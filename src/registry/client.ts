import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { avroOptions, avroType, mismatches, schemaTextOf } from '../avro/logical-types.ts';
import { PermanentError, TransientError } from '../errors.ts';
import { redactText } from '../log/redact.ts';
import { frame, unframe } from './wire-format.ts';
import type { TlsFiles } from '../config/endpoints.ts';
import { registryAgent, registryGet } from './registry-http.ts';

const REQUEST_DEADLINE_MS = 10_000;
const permanentStatuses = new Set([404, 409, 422]);
/** How long a schema id the registry refused is taken as refused before it is asked again. */
const REFUSAL_RETENTION_MS = 30_000;

/**
 * Talks to a schema registry that speaks the Confluent REST API. Schemas are
 * fetched once per id and kept: a schema id's content never changes.
 */
export class SchemaRegistryClient {
  private readonly registry: SchemaRegistry;
  private readonly types = new Map<number, Promise<avro.Type>>();
  /** Each fetched schema's text as registered (without references): it keeps the attributes avsc drops, Kafka Connect's connect.name among them. */
  private readonly sources = new Map<number, string>();
  /** Per reader type, how to read each writer schema id. */
  private readonly readers = new WeakMap<avro.Type, Map<number, (payload: Buffer) => unknown>>();

  readonly url: string;
  /** The URL without its userinfo, for messages. */
  private readonly displayUrl: string;

  private readonly headers: Record<string, string>;
  private readonly agent: ReturnType<typeof registryAgent>;

  constructor(url: string, auth?: { username: string; password: string }, tls?: TlsFiles) {
    this.url = url;
    this.displayUrl = redactText(url);
    this.agent = registryAgent(url, tls);
    // The library builds each fetched schema's type (references resolved) with kelt's logical types.
    this.registry = new SchemaRegistry(
      { host: url, retry: { retries: 2 }, ...(auth === undefined ? {} : { auth }), ...(this.agent === undefined ? {} : { agent: this.agent }) },
      { [SchemaType.AVRO]: avroOptions },
    );
    this.headers = auth === undefined ? {} : { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  }

  private endpoint(path: string): URL {
    return new URL(path, this.url.endsWith('/') ? this.url : `${this.url}/`);
  }

  /** Resolves when the registry answers a cheap request (readiness); rejects with why not. */
  async ping(timeoutMs = 3_000): Promise<void> {
    const { status } = await registryGet(this.endpoint('subjects'), this.headers, this.agent, timeoutMs);
    if (status < 200 || status > 299) throw new Error(`GET /subjects answered HTTP ${status}`);
  }

  /** Registers (or finds) an Avro schema under a subject and returns its id. */
  async registerAvro(subject: string, schema: object): Promise<number> {
    const { id } = await this.call(`register a schema under ${subject}`, () =>
      this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject }),
    );
    this.types.set(id, Promise.resolve(avroType(schema as avro.Schema)));
    this.sources.set(id, JSON.stringify(schema));
    return id;
  }

  /** Every version registered under `subject`, oldest first; none when the subject does not exist. */
  async registeredSchemas(subject: string): Promise<Array<{ version: number; schema: unknown }>> {
    const versions = await this.call(`list the versions of ${subject}`, async () => {
      const listed = await this.getJson<number[]>(`subjects/${encodeURIComponent(subject)}/versions`);
      return listed ?? [];
    });
    const schemas: Array<{ version: number; schema: unknown }> = [];
    for (const version of versions) {
      const found = await this.call(`fetch version ${version} of ${subject}`, () =>
        this.getJson<{ schema: string }>(`subjects/${encodeURIComponent(subject)}/versions/${version}`),
      );
      if (found !== undefined) schemas.push({ version, schema: JSON.parse(found.schema) as unknown });
    }
    return schemas;
  }

  /** GET a registry path; undefined on 404, an error carrying the status otherwise. */
  private async getJson<T>(path: string): Promise<T | undefined> {
    const { status, body } = await registryGet(this.endpoint(path), this.headers, this.agent, REQUEST_DEADLINE_MS);
    if (status === 404) return undefined;
    if (status < 200 || status > 299) throw Object.assign(new Error(`GET /${path} answered HTTP ${status}`), { status });
    return JSON.parse(body) as T;
  }

  /**
   * The Avro schema with this id, as JSON text (for workers that build their
   * own types): as registered where it stands alone, so that attributes avsc
   * does not keep (Debezium's connect.name on a long) reach the worker.
   */
  async schemaText(id: number): Promise<string> {
    const type = await this.avroType(id);
    return this.sources.get(id) ?? schemaTextOf(type);
  }

  avroType(id: number): Promise<avro.Type> {
    let type = this.types.get(id);
    if (type === undefined) {
      const fetched = this.fetchType(id);
      type = fetched;
      this.types.set(id, fetched);
      // A registry that did not answer is asked again on the next call; one
      // that said no is believed for a while, so that a stream of records
      // framed with an unknown id does not become a stream of requests.
      fetched.catch((error: unknown) => {
        if (!(error instanceof PermanentError)) return void this.types.delete(id);
        setTimeout(() => {
          if (this.types.get(id) === fetched) this.types.delete(id);
        }, REFUSAL_RETENTION_MS).unref();
      });
    }
    return type;
  }

  /** Encodes `value` with schema `id`; a value that does not fit is a PermanentError naming each field that does not. */
  async encodeAvro(id: number, value: unknown): Promise<Buffer> {
    const type = await this.avroType(id);
    try {
      return frame(id, type.toBuffer(value));
    } catch (error) {
      const problems = mismatches(type, value);
      throw new PermanentError(`does not fit schema ${id}: ${problems.slice(0, 5).join('; ') || (error as Error).message}`, {
        cause: error,
        reason: 'schema_violation',
      });
    }
  }

  async decodeAvro(message: Buffer): Promise<unknown> {
    const { schemaId, payload } = unframe(message);
    const type = await this.avroType(schemaId);
    return decoded(schemaId, () => type.fromBuffer(payload));
  }

  /**
   * Decodes as `reader`: a record written with an older version gets the
   * defaults of the fields added since. A writer newer than `reader` in a way
   * Avro cannot resolve (a type it widened) is decoded as written, and the
   * caller checks each value where it puts it (a MySQL column): a stage can
   * meet such records while the pipeline's stages are being rolled.
   */
  async decodeAvroAs(message: Buffer, reader: avro.Type): Promise<unknown> {
    const { schemaId, payload } = unframe(message);
    let byWriter = this.readers.get(reader);
    if (byWriter === undefined) this.readers.set(reader, (byWriter = new Map()));
    let read = byWriter.get(schemaId);
    if (read === undefined) {
      const writer = await this.avroType(schemaId);
      read = readerOf(reader, writer);
      byWriter.set(schemaId, read);
    }
    return decoded(schemaId, () => read(payload));
  }

  /**
   * The Avro type of schema `id`. A registry holds JSON Schema and Protobuf
   * schemas too, and an Avro schema avsc cannot build: the records framed
   * with such an id are dead-lettered (`unknown_schema`), never retried.
   */
  private async fetchType(id: number): Promise<avro.Type> {
    const found = await this.call(`fetch schema ${id}`, () =>
      this.getJson<{ schema: string; schemaType?: string; references?: unknown[] }>(`schemas/ids/${id}`),
    );
    if (found === undefined) throw new PermanentError(`the schema registry has no schema ${id}`, { reason: 'unknown_schema' });
    if (found.schemaType !== undefined && found.schemaType !== SchemaType.AVRO) {
      throw new PermanentError(`schema ${id} is a ${found.schemaType} schema; kelt reads Avro`, { reason: 'unknown_schema' });
    }
    // The library resolves references; a schema without them is built here, where a build that fails is the schema's fault.
    if (found.references !== undefined && found.references.length > 0) {
      return (await this.call(`fetch schema ${id}`, () => this.registry.getSchema(id))) as unknown as avro.Type;
    }
    try {
      const type = avroType(JSON.parse(found.schema) as avro.Schema);
      this.sources.set(id, found.schema);
      return type;
    } catch (error) {
      throw new PermanentError(`schema ${id} is not an Avro schema kelt can read: ${(error as Error).message}`, {
        cause: error,
        reason: 'unknown_schema',
      });
    }
  }

  /**
   * Runs a registry request, telling "the registry said no" (permanent) from
   * "the registry is not there" (transient). Only the registry's own client
   * errors are permanent: 404 (no such schema or subject), 409 (incompatible)
   * and 422 (invalid schema). The HTTP library reports a refused connection
   * as status 400, so 400 is not among them. A request that takes longer
   * than the deadline is abandoned as transient: a registry whose own
   * storage is gone can hold a request open indefinitely.
   */
  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TransientError(`schema registry at ${this.displayUrl} did not answer within ${REQUEST_DEADLINE_MS} ms to ${what}`)),
        REQUEST_DEADLINE_MS,
      );
    });
    try {
      return await Promise.race([request(), deadline]);
    } catch (error) {
      if (error instanceof TransientError) throw error;
      const status = (error as { status?: number }).status;
      if (status !== undefined && permanentStatuses.has(status)) {
        throw new PermanentError(`schema registry refused to ${what} (HTTP ${status})`, { cause: error, reason: 'unknown_schema' });
      }
      throw new TransientError(`schema registry at ${this.displayUrl} could not ${what}: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The writer schemas (JSON text by id) of Confluent-framed values, fetched
 * from the registry once per id. Ids the registry does not know are left
 * out (the records that name them are dead-lettered); a registry that does not
 * answer is a TransientError.
 */
export async function writerSchemasOf(
  registry: Pick<SchemaRegistryClient, 'schemaText'>,
  values: Iterable<Buffer | null>,
): Promise<Record<number, string>> {
  const ids = new Set<number>();
  for (const value of values) {
    if (value !== null && value.length >= 5 && value[0] === 0) ids.add(value.readUInt32BE(1));
  }
  const schemas: Record<number, string> = {};
  for (const id of ids) {
    try {
      schemas[id] = await registry.schemaText(id);
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
    }
  }
  return schemas;
}

/** Bytes avsc cannot read with their schema (cut, corrupt, written with another) are the record's fault: dead-lettered as undecodable. */
function decoded(schemaId: number, read: () => unknown): unknown {
  try {
    return read();
  } catch (error) {
    throw new PermanentError(`the bytes do not decode with schema ${schemaId}: ${(error as Error).message}`, { cause: error, reason: 'undecodable' });
  }
}

function readerOf(reader: avro.Type, writer: avro.Type): (payload: Buffer) => unknown {
  try {
    const resolver = reader.createResolver(writer);
    return (payload) => reader.fromBuffer(payload, resolver);
  } catch (error) {
    // avsc refuses a resolver exactly when Avro's rules cannot resolve the two.
    if (!(error instanceof Error)) throw error;
    return (payload) => writer.fromBuffer(payload);
  }
}

import type avro from 'avsc';
import { avroType, schemaTextOf } from '../../src/avro/logical-types.ts';
import { PermanentError } from '../../src/errors.ts';
import { frame, unframe } from '../../src/registry/wire-format.ts';

/**
 * A schema registry in memory for unit tests of the stages: ids assigned in
 * registration order, values framed and read like the real client (a
 * reader resolves an older writer; an unknown id is the record's fault).
 */
export class FakeRegistry {
  private readonly schemas = new Map<number, avro.Type>();
  private readonly ids = new Map<string, number>();

  async registerAvro(_subject: string, schema: object): Promise<number> {
    const text = JSON.stringify(schema);
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(text, id);
      this.schemas.set(id, avroType(schema as avro.Schema));
    }
    return id;
  }

  async schemaText(id: number): Promise<string> {
    return schemaTextOf(this.type(id));
  }

  async encodeAvro(id: number, value: unknown): Promise<Buffer> {
    return frame(id, this.type(id).toBuffer(value));
  }

  async decodeAvroAs(message: Buffer, reader: avro.Type): Promise<unknown> {
    const { schemaId, payload } = unframe(message);
    return reader.fromBuffer(payload, reader.createResolver(this.type(schemaId)));
  }

  private type(id: number): avro.Type {
    const type = this.schemas.get(id);
    if (type === undefined) throw new PermanentError(`the schema registry has no schema ${id}`, { reason: 'unknown_schema' });
    return type;
  }
}

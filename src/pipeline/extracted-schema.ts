import type avro from 'avsc';

/**
 * The schema of `<p>.extracted` and `<p>.loaded` records: the source
 * schema's fields plus where and when kelt read the event.
 */
export const extractMetadataFields = [
  { name: 'keltSourceTopic', type: 'string' },
  { name: 'keltSourcePartition', type: 'int' },
  { name: 'keltSourceOffset', type: 'long' },
  { name: 'keltIngestedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
] as const;

export interface ExtractMetadata {
  keltSourceTopic: string;
  keltSourcePartition: number;
  keltSourceOffset: number;
  keltIngestedAt: number;
}

export function extractedSchema(source: avro.schema.RecordType): avro.schema.RecordType {
  return {
    type: 'record',
    name: `${source.name.split('.').pop()}Extracted`,
    ...(source.namespace === undefined ? {} : { namespace: source.namespace }),
    doc: `${source.name} as kelt's extract stage wrote it: validated, with its source position.`,
    fields: [...source.fields, ...extractMetadataFields.map((field) => ({ ...field }))],
  } as avro.schema.RecordType;
}

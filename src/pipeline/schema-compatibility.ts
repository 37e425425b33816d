import type avro from 'avsc';
import { avroType, kindOf } from '../avro/logical-types.ts';

/**
 * Whether a pipeline's new source schema can read every record written with
 * an earlier one (the registry's BACKWARD rule, which the stages rely on:
 * extract reads every raw record as the spec's schema). Each problem names
 * the field and the rule it breaks.
 */
export function backwardProblems(reader: avro.schema.RecordType, writer: avro.schema.RecordType, writerLabel: string): string[] {
  const readerType = avroType(reader as avro.Schema) as avro.types.RecordType;
  const writerType = avroType(writer as avro.Schema) as avro.types.RecordType;
  const problems: string[] = [];
  for (const field of readerType.fields) {
    const names = [field.name, ...(field.aliases ?? [])];
    const old = writerType.fields.find((candidate) => names.includes(candidate.name));
    if (old === undefined) {
      if (field.defaultValue() === undefined) {
        problems.push(
          `field ${field.name}: added without a default, so records of ${writerLabel} have no value for it (BACKWARD: a new field needs a default)`,
        );
      }
      continue;
    }
    try {
      field.type.createResolver(old.type);
    } catch (error) {
      // avsc refuses to build a resolver for types Avro's rules cannot resolve: that is the answer sought.
      if (!(error instanceof Error)) throw error;
      problems.push(
        `field ${field.name}: ${describeType(old.type)} in ${writerLabel} cannot be read as ${describeType(field.type)} (BACKWARD: a type may only widen, e.g. int to long, float to double, or gain a union branch)`,
      );
    }
  }
  return problems;
}

function describeType(type: avro.Type): string {
  return type.typeName.startsWith('logical:') ? `${kindOf((type as avro.types.LogicalType).underlyingType)} ${type.typeName.slice(8)}` : kindOf(type);
}

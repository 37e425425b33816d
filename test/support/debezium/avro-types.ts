/** Avro types as Kafka Connect's Avro converter writes Debezium's: the Connect type's name and parameters as connect.* attributes. */
export function connectDecimal(precision: number, scale: number): Record<string, unknown> {
  return {
    type: 'bytes',
    scale,
    precision,
    'connect.version': 1,
    'connect.parameters': { scale: String(scale), 'connect.decimal.precision': String(precision) },
    'connect.name': 'org.apache.kafka.connect.data.Decimal',
    logicalType: 'decimal',
  };
}

/** A nullable long or int carrying a Debezium temporal type (io.debezium.time.MicroTimestamp…). */
export function connectTemporal(type: 'int' | 'long', name: string): unknown[] {
  return ['null', { type, 'connect.version': 1, 'connect.name': name }];
}

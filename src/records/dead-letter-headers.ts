/**
 * The headers a stage adds to a record it dead-letters; the record's own
 * headers travel beside them.
 */
export const deadLetterHeaders = {
  stage: 'kelt.stage',
  reason: 'kelt.reason',
  error: 'kelt.error',
  originalTopic: 'kelt.original.topic',
  originalPartition: 'kelt.original.partition',
  originalOffset: 'kelt.original.offset',
  failedAt: 'kelt.failed.at',
  valueOmitted: 'kelt.value.omitted',
  /** On a redriven record: the DLQ partition@offset it came back from. */
  redrivenFrom: 'kelt.redriven.from',
} as const;

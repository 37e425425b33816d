import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { withoutAbortedRecords, type FetchedRecord } from '../../../src/kafka/kafkajs-aborted-records-fix.ts';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';

const require = createRequire(import.meta.url);

type Kind = 'data' | 'abort' | 'commit';

/** A record as kafkajs decodes it: data of a transaction, or a control record (marker). */
const record = (offset: number, producerId: string, kind: Kind, key: Buffer | null = Buffer.from(`k${offset}`)): FetchedRecord => ({
  offset: String(offset),
  key: kind === 'data' ? key : Buffer.from([0, 0, 0, kind === 'abort' ? 0 : 1]),
  isControlRecord: kind !== 'data',
  batchContext: { producerId, inTransaction: true },
});

const delivered = (records: FetchedRecord[], aborted: Array<[producerId: string, firstOffset: number]>) =>
  withoutAbortedRecords({
    messages: records,
    abortedTransactions: aborted.map(([producerId, firstOffset]) => ({ producerId, firstOffset: String(firstOffset) })),
  })
    .filter((r) => !r.isControlRecord)
    .map((r) => Number(r.offset));

/** A and B both open; B aborts first, then A; A then commits a transaction. */
const interleaved = () => [
  record(0, 'A', 'data'),
  record(1, 'B', 'data'),
  record(2, 'B', 'abort'),
  record(3, 'A', 'abort'),
  record(4, 'A', 'data'),
  record(5, 'A', 'commit'),
];

describe('kafkajs aborted-records fix', () => {
  it('drops both of two interleaved aborted transactions, listed in the order of their abort markers', () => {
    const records = interleaved();
    // The broker lists aborted transactions as their markers were written: B's, then A's.
    expect(
      delivered(records, [
        ['B', 1],
        ['A', 0],
      ]),
    ).toEqual([4]);
  });

  it('drops an aborted transaction that began before the fetch, whatever came before it in the list', () => {
    // Fetched from offset 5: C's and D's transactions began before it, A's inside.
    const records = [
      record(5, 'D', 'data'),
      record(6, 'A', 'data'),
      record(7, 'C', 'abort'),
      record(8, 'A', 'abort'),
      record(9, 'D', 'abort'),
      record(10, 'D', 'data'),
      record(11, 'D', 'commit'),
    ];
    expect(
      delivered(records, [
        ['C', 3],
        ['A', 6],
        ['D', 1],
      ]),
    ).toEqual([10]);
  });

  it('ends an aborted transaction at its abort marker only, not at a data record keyed like one', () => {
    const zeroKey = Buffer.from([0, 0, 0, 0]);
    const records = [
      record(0, 'A', 'data'),
      record(1, 'A', 'data', zeroKey),
      record(2, 'A', 'data'),
      record(3, 'A', 'abort'),
      record(4, 'A', 'data', zeroKey),
      record(5, 'A', 'commit'),
    ];
    expect(delivered(records, [['A', 0]])).toEqual([4]);
  });

  it('keeps records of producers outside transactions and of committed transactions', () => {
    const plain = { ...record(1, 'P', 'data'), batchContext: { producerId: 'P', inTransaction: false } };
    const records = [record(0, 'A', 'data'), plain, record(2, 'B', 'data'), record(3, 'A', 'abort'), record(4, 'B', 'commit')];
    expect(delivered(records, [['A', 0]])).toEqual([1, 2]);
    expect(delivered(records, [])).toEqual([0, 1, 2]);
  });

  it('is the filter kafkajs batches use', () => {
    expect(kafkajsPatched('consumer/filterAbortedMessages.js')).toBe(true);
    const Batch = require('kafkajs/src/consumer/batch.js') as new (
      topic: string,
      fetchedOffset: string,
      partitionData: unknown,
    ) => { messages: FetchedRecord[] };
    const records = interleaved();
    const batch = new Batch('t', '0', {
      partition: 0,
      highWatermark: '6',
      messages: records,
      abortedTransactions: [
        { producerId: 'B', firstOffset: '1' },
        { producerId: 'A', firstOffset: '0' },
      ],
    });
    expect(batch.messages.map((r) => Number(r.offset))).toEqual([4]);
  });
});

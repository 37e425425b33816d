import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import avro from 'avsc';
import { Partitioners } from '../support/kafka.ts';
import { tempFile } from '../support/temp-file.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { envOf } from '../../src/config/endpoints.ts';
import { frame } from '../../src/registry/wire-format.ts';
import { countRows, createTestPipeline, waitFor, type TestPipeline } from '../support/pipeline.ts';

/**
 * Every Avro type lands exactly: values at the edges, produced by `kelt
 * produce` from NDJSON (Avro and JSON sources) and by a producer without
 * logical types (as a client in another language writes), read back from
 * the staging table and from a model table the test's transform writes.
 * The expected text is written out by hand, not computed by kelt's code.
 */
const kelt = fileURLToPath(new URL('../../scripts/kelt', import.meta.url));

const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'test.exact',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'fee', type: ['null', { type: 'fixed', name: 'Fee', size: 8, logicalType: 'decimal', precision: 18, scale: 4 }], default: null },
    { name: 'updatedAt', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'localAt', type: { type: 'long', logicalType: 'local-timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'opens', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'closes', type: { type: 'long', logicalType: 'time-micros' } },
    { name: 'ref', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
          ],
        },
      },
    },
    { name: 'shipping', type: ['null', { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] }], default: null },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'blob', type: ['null', 'bytes'], default: null },
    { name: 'qty', type: 'int' },
    { name: 'total', type: 'long' },
    { name: 'ratio', type: 'double' },
    { name: 'flag', type: 'boolean' },
    { name: 'attrs', type: { type: 'map', values: 'string' } },
  ],
};

/** The events as NDJSON gives them: the natural JSON of each type. */
const events = [
  {
    orderId: 'zero',
    customerId: '',
    amount: '0.00',
    fee: '0',
    updatedAt: 0,
    placedAt: 0,
    localAt: '1970-01-01T00:00:00',
    day: '1970-01-01',
    opens: '00:00',
    closes: '00:00:00',
    ref: '00000000-0000-0000-0000-000000000000',
    status: 'NEW',
    lines: [],
    shipping: null,
    note: '',
    blob: null,
    qty: 0,
    total: 0,
    ratio: 0,
    flag: false,
    attrs: {},
  },
  {
    orderId: 'negative',
    customerId: 'c-1',
    amount: -0.01,
    fee: '-99999999999999.9999',
    updatedAt: '1969-12-31T23:59:59.999999Z',
    placedAt: '1969-12-31T23:59:59.999Z',
    localAt: -1,
    day: '1969-12-31',
    opens: 1,
    closes: 1,
    ref: '123e4567-e89b-12d3-a456-426614174000',
    status: 'PAID',
    lines: [{ sku: 'a', price: '-12.50' }],
    shipping: { city: 'Oslo' },
    note: null,
    blob: null,
    qty: -2147483648,
    total: -9007199254740990,
    ratio: -1.5,
    flag: true,
    attrs: { k: 'v' },
  },
  {
    orderId: 'max',
    customerId: 'c-2',
    amount: '9999999999.99',
    fee: '99999999999999.9999',
    updatedAt: '2024-02-29T23:59:59.999999+00:00',
    placedAt: '2024-02-29T12:00:00.123+02:00',
    localAt: '9999-12-31T23:59:59.999999',
    day: '2024-02-29',
    opens: '23:59:59.999',
    closes: '23:59:59.999999',
    ref: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    status: 'NEW',
    lines: [{ sku: 'b', price: 99999999.99 }],
    shipping: null,
    note: null,
    blob: null,
    qty: 2147483647,
    total: 9007199254740990,
    ratio: 1.7976931348623157e308,
    flag: false,
    attrs: {},
  },
  {
    orderId: 'utf8',
    customerId: '😀𝄞 ünï',
    amount: '12.3',
    fee: null,
    updatedAt: 1_700_000_000_000_001,
    placedAt: 1_700_000_000_000,
    localAt: '2026-11-23T12:34:56.000001',
    day: 20_000,
    opens: '12:34:56.789',
    closes: '12:34:56.000001',
    ref: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    status: 'PAID',
    lines: [],
    shipping: { city: '東京😀' },
    note: '日本語😀',
    blob: null,
    qty: 7,
    total: 7,
    ratio: 0.1,
    flag: true,
    attrs: { ключ: '値😀' },
  },
];

/** What staging holds for each event, as MySQL prints it (CAST … AS CHAR). */
const staged = [
  [
    'zero',
    '',
    '0.00',
    '0.0000',
    '1970-01-01 00:00:00.000000',
    '1970-01-01 00:00:00.000',
    '1970-01-01 00:00:00.000000',
    '1970-01-01',
    '00:00:00.000',
    '00:00:00.000000',
    '00000000-0000-0000-0000-000000000000',
    'NEW',
    [],
    null,
    '',
    null,
    0,
    0,
    0,
    0,
    {},
  ],
  [
    'negative',
    'c-1',
    '-0.01',
    '-99999999999999.9999',
    '1969-12-31 23:59:59.999999',
    '1969-12-31 23:59:59.999',
    '1969-12-31 23:59:59.999999',
    '1969-12-31',
    '00:00:00.001',
    '00:00:00.000001',
    '123e4567-e89b-12d3-a456-426614174000',
    'PAID',
    [{ sku: 'a', price: '-12.50' }],
    { city: 'Oslo' },
    null,
    null,
    -2147483648,
    -9007199254740990,
    -1.5,
    1,
    { k: 'v' },
  ],
  [
    'max',
    'c-2',
    '9999999999.99',
    '99999999999999.9999',
    '2024-02-29 23:59:59.999999',
    '2024-02-29 10:00:00.123',
    '9999-12-31 23:59:59.999999',
    '2024-02-29',
    '23:59:59.999',
    '23:59:59.999999',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'NEW',
    [{ sku: 'b', price: '99999999.99' }],
    null,
    null,
    null,
    2147483647,
    9007199254740990,
    1.7976931348623157e308,
    0,
    {},
  ],
  [
    'utf8',
    '😀𝄞 ünï',
    '12.30',
    null,
    '2023-11-14 22:13:20.000001',
    '2023-11-14 22:13:20.000',
    '2026-11-23 12:34:56.000001',
    '2024-10-04',
    '12:34:56.789',
    '12:34:56.000001',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    'PAID',
    [],
    { city: '東京😀' },
    '日本語😀',
    null,
    7,
    7,
    0.1,
    1,
    { ключ: '値😀' },
  ],
];

const stagingColumns = [
  'order_id',
  'customer_id',
  'amount',
  'fee',
  'updated_at',
  'placed_at',
  'local_at',
  'day',
  'opens',
  'closes',
  'ref',
  'status',
  'lines',
  'shipping',
  'note',
  'blob',
  'qty',
  'total',
  'ratio',
  'flag',
  'attrs',
];
const jsonColumns = new Set(['lines', 'shipping', 'attrs']);
const asText = new Set(['amount', 'fee', 'updated_at', 'placed_at', 'local_at', 'day', 'opens', 'closes']);

/** The test's transform: logical values straight into typed model columns, and what it saw of them. */
const transformSource = `
export default function transform(r) {
  return {
    fct_orders: {
      order_id: r.orderId, amount: r.amount, fee: r.fee, updated_at: r.updatedAt, placed_at: r.placedAt, day: r.day,
      opens: r.opens, closes: r.closes, ref: r.ref, customer: r.customerId, blob: r.blob, total: r.total, lines: r.lines,
      seen: { amount: typeof r.amount, updatedAt: typeof r.updatedAt, day: typeof r.day, opens: typeof r.opens, blob: r.blob === null ? 'null' : r.blob.constructor.name },
    },
  };
}
`;
const modelTable = {
  name: 'fct_orders',
  primaryKey: ['order_id'],
  columns: {
    order_id: 'varchar(64)',
    amount: 'decimal(12,2)',
    fee: 'decimal(18,4)',
    updated_at: 'timestamp(6)',
    placed_at: 'timestamp',
    day: 'date',
    opens: 'time(3)',
    closes: 'time(6)',
    ref: 'uuid',
    customer: 'varchar(16)',
    blob: 'bytes',
    total: 'long',
    lines: 'json',
    seen: 'json',
  },
};

async function pipelineOf(format: 'avro' | 'json'): Promise<TestPipeline> {
  return createTestPipeline({
    source: { format, schema: tempFile('order.avsc', JSON.stringify(schema)), keyField: 'orderId' },
    staging: { table: 'stg_orders', primaryKey: ['orderId'], columns: { note: 'text' } },
    transform: { module: tempFile('transform.mjs', transformSource), tables: [modelTable] },
  } as never);
}

async function keltProduce(t: TestPipeline, ndjson: string): Promise<void> {
  await promisify(execFile)(kelt, ['produce', '-p', t.specPath, '-f', ndjson], { env: { ...process.env, ...envOf(t.endpoints) } });
}

async function stagingRows(t: TestPipeline): Promise<unknown[][]> {
  const select = stagingColumns.map((c) => (asText.has(c) ? `CAST(\`${c}\` AS CHAR) AS \`${c}\`` : `\`${c}\``)).join(', ');
  const [rows] = await t.db.pool.query(`SELECT ${select} FROM stg_orders ORDER BY order_id`);
  return (rows as Array<Record<string, unknown>>).map((row) =>
    stagingColumns.map((c) => (jsonColumns.has(c) && typeof row[c] === 'string' ? JSON.parse(row[c] as string) : row[c])),
  );
}

async function modelRows(t: TestPipeline): Promise<Array<Record<string, unknown>>> {
  const [rows] = await t.db.pool.query(
    `SELECT order_id, CAST(amount AS CHAR) AS amount, CAST(fee AS CHAR) AS fee, CAST(updated_at AS CHAR) AS updated_at,
            CAST(placed_at AS CHAR) AS placed_at, CAST(day AS CHAR) AS day, CAST(opens AS CHAR) AS opens, CAST(closes AS CHAR) AS closes,
            ref, customer, \`blob\`, total, \`lines\`, seen FROM fct_orders ORDER BY order_id`,
  );
  return (rows as Array<Record<string, unknown>>).map((row) => ({
    ...row,
    lines: typeof row.lines === 'string' ? JSON.parse(row.lines) : row.lines,
    seen: typeof row.seen === 'string' ? JSON.parse(row.seen) : row.seen,
  }));
}

const byId = <T extends unknown[]>(rows: T[]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

function expectedModel(row: unknown[], blob: 'null' | 'Buffer' = 'null') {
  const at = (c: string) => row[stagingColumns.indexOf(c)];
  return {
    order_id: at('order_id'),
    amount: at('amount'),
    fee: at('fee'),
    updated_at: at('updated_at'),
    placed_at: at('placed_at'),
    day: at('day'),
    opens: at('opens'),
    closes: at('closes'),
    ref: at('ref'),
    customer: at('customer_id'),
    blob: at('blob'),
    total: at('total'),
    lines: at('lines'),
    seen: { amount: 'string', updatedAt: 'number', day: 'string', opens: 'string', blob },
  };
}

describe('every Avro type lands exactly', () => {
  let t: TestPipeline | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('from an Avro source: kelt produce, and a producer without logical types', async () => {
    t = await pipelineOf('avro');
    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    await keltProduce(t, tempFile('events.ndjson', events.map((e) => JSON.stringify(e)).join('\n')));
    // As a client without logical types writes it: raw two's complement, days, microseconds, bytes.
    const plain = avro.Type.forSchema(schema as avro.Schema);
    const subject = `${t.pipeline.topics.raw}-value`;
    const id = await t.connections.registry.registerAvro(subject, schema);
    const raw = {
      orderId: 'raw',
      customerId: 'c-raw',
      amount: Buffer.from([0xff]),
      fee: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
      updatedAt: 1,
      placedAt: 1,
      localAt: 1,
      day: 19_782,
      opens: 1,
      closes: 1,
      ref: '123e4567-e89b-12d3-a456-426614174000',
      status: 'PAID',
      lines: [{ sku: 'r', price: Buffer.from([0x00, 0x80]) }],
      shipping: null,
      note: null,
      blob: Buffer.from([0x00, 0xff, 0x10]),
      qty: 1,
      total: 1,
      ratio: 1,
      flag: true,
      attrs: {},
    };
    const producer = t.connections.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: t.pipeline.topics.raw, messages: [{ key: 'raw', value: frame(id, plain.toBuffer(raw)) }] });
    await producer.disconnect();

    await waitFor(
      'every order staged and modeled',
      async () => (await countRows(t!.db, 'stg_orders')) === 5 && (await countRows(t!.db, 'fct_orders')) === 5,
    );
    const rawRow = [
      'raw',
      'c-raw',
      '-0.01',
      '-0.0002',
      '1970-01-01 00:00:00.000001',
      '1970-01-01 00:00:00.001',
      '1970-01-01 00:00:00.000001',
      '2024-02-29',
      '00:00:00.001',
      '00:00:00.000001',
      '123e4567-e89b-12d3-a456-426614174000',
      'PAID',
      [{ sku: 'r', price: '1.28' }],
      null,
      null,
      Buffer.from([0x00, 0xff, 0x10]),
      1,
      1,
      1,
      1,
      {},
    ];
    expect(await stagingRows(t)).toEqual(byId([...staged, rawRow]));
    const model = await modelRows(t);
    expect(model).toEqual(byId([...staged, rawRow]).map((row) => expectedModel(row, row[0] === 'raw' ? 'Buffer' : 'null')));
    expect(await countRows(t.db, 'stg_orders')).toBe(5);
  });

  it('from a JSON source: ISO-8601 text and decimals as text or numbers, and a field that does not fit named', async () => {
    t = await pipelineOf('json');
    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    const bad = { ...events[0]!, orderId: 'bad', amount: '1.234', day: '2023-02-29' };
    await keltProduce(t, tempFile('events.ndjson', [...events, bad].map((e) => JSON.stringify(e)).join('\n')));
    await waitFor(
      'every order staged and modeled',
      async () => (await countRows(t!.db, 'stg_orders')) === 4 && (await countRows(t!.db, 'fct_orders')) === 4,
    );
    expect(await stagingRows(t)).toEqual(byId(staged));
    expect(await modelRows(t)).toEqual(byId(staged).map((row) => expectedModel(row)));
    const { readTopic } = await import('../support/pipeline.ts');
    await waitFor('the dead letter', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length === 1);
    const [letter] = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
    const error = letter!.headers?.['kelt.error']?.toString() ?? '';
    expect(error).toMatch(/amount: "1\.234" is not a decimal\(12,2\)/);
    expect(error).toMatch(/day: "2023-02-29" is not a date/);
  });
});

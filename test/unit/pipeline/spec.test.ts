import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../../src/errors.ts';
import { loadPipeline, pipelineFrom } from '../../../src/pipeline/spec.ts';
import { snakeCase } from '../../../src/pipeline/sql-types.ts';

const specPath = fileURLToPath(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url));
const document = () => parseYaml(readFileSync(specPath, 'utf8')) as Record<string, unknown>;

function issuesOf(spec: unknown): readonly string[] {
  try {
    pipelineFrom(spec, specPath);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('the spec was accepted');
}

describe('the pipeline spec', () => {
  it('loads the shipped pageviews pipeline with default topic names', () => {
    const pipeline = loadPipeline(specPath);
    expect(pipeline.topics).toEqual({
      raw: 'pageviews.raw',
      extracted: 'pageviews.extracted',
      loaded: 'pageviews.loaded',
      dlq: 'pageviews.dlq',
    });
    expect(pipeline.partitions).toBe(12);
    expect(pipeline.source.keyField).toBe('userId');
    expect(pipeline.pool.maxQueue).toBe(pipeline.pool.threads * 4);
  });

  it('takes topic names from the spec when it gives them', () => {
    const pipeline = pipelineFrom({ ...document(), topics: { raw: 'clicks', dlq: 'clicks-dead' } }, specPath);
    expect(pipeline.topics.raw).toBe('clicks');
    expect(pipeline.topics.extracted).toBe('pageviews.extracted');
    expect(pipeline.topics.dlq).toBe('clicks-dead');
  });

  it('names an unknown field', () => {
    expect(issuesOf({ ...document(), partitons: 3 })).toEqual(['(top level): Unrecognized key: "partitons"']);
  });

  it('names a field of the wrong type or shape', () => {
    expect(issuesOf({ ...document(), partitions: 'twelve' })).toEqual(['partitions: Invalid input: expected number, received string']);
    expect(issuesOf({ ...document(), name: 'Page Views' })).toEqual(['name: must start with a lowercase letter; lowercase letters, digits, _ and -']);
  });

  it('checks the key field and primary key against the schema', () => {
    const spec = document();
    const issues = issuesOf({
      ...spec,
      source: { ...(spec.source as object), keyField: 'user' },
      staging: { table: 'stg', primaryKey: ['id'] },
    });
    expect(issues).toEqual(['source.keyField: user is not a field of pageview.avsc', 'staging.primaryKey.0: id is not a field of pageview.avsc']);
  });

  it('names files that do not exist and a schema that does not parse', () => {
    const spec = document();
    const missing = issuesOf({ ...spec, source: { ...(spec.source as object), schema: 'nope.avsc' } });
    expect(missing[0]).toMatch(/^source\.schema: nope\.avsc does not exist/);
    const notAvro = issuesOf({ ...spec, source: { ...(spec.source as object), schema: 'pageviews.pipeline.yaml' } });
    expect(notAvro[0]).toMatch(/^source\.schema: .* is not a valid Avro schema/);
  });

  it("checks a model table's primary key against its columns", () => {
    const spec = document();
    const transform = spec.transform as { module: string; tables: Array<Record<string, unknown>> };
    const issues = issuesOf({
      ...spec,
      transform: { ...transform, tables: [{ ...transform.tables[0], primaryKey: ['id'] }] },
    });
    expect(issues).toEqual(["transform.tables.0.primaryKey.0: id is not one of the table's columns"]);
  });

  it("refuses kelt's own table names and a name two tables share, whatever its case", () => {
    const spec = document();
    const transform = spec.transform as { module: string; tables: Array<Record<string, unknown>> };
    const issues = issuesOf({
      ...spec,
      staging: { ...(spec.staging as object), table: 'kelt_offsets' },
      transform: { ...transform, tables: [...transform.tables, { ...transform.tables[0], name: 'FCT_PageViews' }] },
    });
    expect(issues).toEqual([
      "staging.table: kelt_offsets is a table of kelt's own (kelt_offsets, kelt_dead_letters, kelt_watermarks, kelt_applied_origins); choose another name",
      'transform.tables.1.name: FCT_PageViews is also the table of transform.tables.0.name',
    ]);
  });

  it('refuses model columns every JavaScript object has, which a row could not leave unset', () => {
    const spec = document();
    const transform = spec.transform as { module: string; tables: Array<{ columns: Record<string, string> }> };
    const table = transform.tables[0]!;
    const issues = issuesOf({
      ...spec,
      transform: { ...transform, tables: [{ ...table, columns: { ...table.columns, constructor: 'string', __proto__x: 'string' } }] },
    });
    expect(issues).toEqual([
      'transform.tables.0.columns.constructor: every JavaScript object has a constructor, so a row could not leave it unset; choose another name',
    ]);
  });

  it('refuses source fields that become the same column, or one longer than MySQL allows', () => {
    const spec = document();
    const schemaFile = join(mkdtempSync(join(tmpdir(), 'kelt-spec-')), 'clash.avsc');
    const long = 'fieldName'.repeat(7);
    writeFileSync(
      schemaFile,
      JSON.stringify({
        type: 'record',
        name: 'Clash',
        fields: [
          { name: 'userId', type: 'string' },
          { name: 'user_id', type: 'string' },
          { name: long, type: 'string' },
        ],
      }),
    );
    const issues = issuesOf({
      ...spec,
      source: { ...(spec.source as object), schema: schemaFile },
      staging: { table: 'stg', primaryKey: ['userId'] },
    });
    expect(issues).toEqual([
      'source.schema: fields userId and user_id both become column user_id',
      `source.schema: field ${long} becomes column ${snakeCase(long)}, longer than MySQL's 64 characters`,
    ]);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Endpoints } from '../../src/config/endpoints.ts';
import { migrate } from '../../src/migrate/migrate.ts';
import { createMySqlPool } from '../../src/mysql/pool.ts';
import { loadPipeline, type Pipeline, type PipelineSpecInput } from '../../src/pipeline/spec.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { connectTo, type Connections } from '../../src/runtime/connections.ts';

const pageviewsSpec = fileURLToPath(new URL('../../schemas/pageviews.pipeline.yaml', import.meta.url));

/**
 * The benchmark's data: the pageviews pipeline under a name of its own, in a
 * database of its own. Each measured run gets a spec with a new name (so new
 * consumer groups and MySQL positions) over the same topics, so one filled
 * topic serves every run that reads it.
 */
export class BenchFixture {
  readonly id: string;
  readonly endpoints: Endpoints;
  readonly pipeline: Pipeline;
  readonly connections: Connections;
  private readonly dir: string;
  /** The spec every run's spec is written from (schema, generator and module paths absolute). */
  readonly document: PipelineSpecInput;

  private constructor(id: string, endpoints: Endpoints, document: PipelineSpecInput, dir: string) {
    this.id = id;
    this.endpoints = endpoints;
    this.document = document;
    this.dir = dir;
    this.pipeline = loadPipeline(this.writeSpec('fixture', {}));
    this.connections = connectTo(endpoints, 'warn', 'bench', { pipeline: this.pipeline.name });
  }

  /** `format`: how the raw topic's events are written (the pageviews spec's Avro, or JSON). */
  static async create(stackEndpoints: Endpoints, partitions: number, format: 'avro' | 'json' = 'avro'): Promise<BenchFixture> {
    const id = `bench${Date.now().toString(36)}`;
    const admin = createMySqlPool(stackEndpoints.mysqlUrl!, 1);
    await admin.query(`CREATE DATABASE \`kelt_${id}\``);
    await admin.end();
    const url = new URL(stackEndpoints.mysqlUrl!);
    url.pathname = `/kelt_${id}`;
    const document = parseYaml(readFileSync(pageviewsSpec, 'utf8')) as PipelineSpecInput;
    const base = resolve(pageviewsSpec, '..');
    const spec: PipelineSpecInput = {
      ...document,
      name: id,
      partitions,
      source: {
        ...document.source,
        format,
        schema: resolve(base, document.source.schema),
        generator: resolve(base, document.source.generator!),
      },
      transform: { ...document.transform, module: resolve(base, document.transform.module) },
    };
    const fixture = new BenchFixture(id, { ...stackEndpoints, mysqlUrl: url.toString() }, spec, mkdtempSync(join(tmpdir(), 'kelt-bench-')));
    const pool = fixture.connections.mysql();
    await migrate(fixture.pipeline, { ...fixture.connections, mysql: pool });
    await pool.end();
    return fixture;
  }

  /** A spec over the fixture's topics and tables under another name (its own groups); returns its path. */
  writeSpec(run: string, overrides: Partial<PipelineSpecInput>): string {
    const topics = {
      raw: `${this.id}.raw`,
      extracted: `${this.id}.extracted`,
      loaded: `${this.id}.loaded`,
      dlq: `${this.id}.dlq`,
    };
    const path = join(this.dir, `${run}.yaml`);
    writeFileSync(path, stringifyYaml({ ...this.document, name: `${this.id}-${run}`, topics, ...overrides }));
    return path;
  }

  async produce(events: number, rate?: number): Promise<void> {
    await produceEvents(this.pipeline, generatedEvents(this.pipeline.source.generatorPath!, events), this.connections, {
      ...(rate === undefined ? {} : { rate }),
    });
  }

  /** Empties the MySQL tables, so that every run inserts rather than finds its rows there. */
  async truncate(): Promise<void> {
    const pool = this.connections.mysql(1);
    for (const table of [this.pipeline.staging.table, ...this.pipeline.transform.tables.map((t) => t.name)]) {
      await pool.query(`TRUNCATE TABLE \`${table}\``);
    }
    await pool.end();
  }

  async drop(): Promise<void> {
    const admin = this.connections.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(this.pipeline.topics) });
    await admin.disconnect();
    const pool = this.connections.mysql(1);
    await pool.query(`DROP DATABASE \`kelt_${this.id}\``);
    await pool.end();
  }
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const connectUrl = `http://127.0.0.1:${process.env.KELT_STACK_CONNECT_PORT ?? '18083'}`;

/** A Debezium MariaDB connector on the local Kafka Connect worker (scripts/stack start connect), capturing one table. */
export class CapturedTable {
  readonly name: string;
  readonly topic: string;
  private readonly config: Record<string, string>;

  constructor({ mysqlUrl, database, table, prefix }: { mysqlUrl: string; database: string; table: string; prefix: string }) {
    const url = new URL(mysqlUrl);
    this.name = `${prefix}-${table}`;
    this.topic = `${prefix}.${database}.${table}`;
    this.config = {
      'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
      'tasks.max': '1',
      'database.hostname': url.hostname,
      'database.port': url.port,
      'database.user': decodeURIComponent(url.username),
      'database.password': decodeURIComponent(url.password),
      'database.server.id': String(10_000 + Math.floor(Math.random() * 80_000)),
      'database.ssl.mode': 'disable',
      'topic.prefix': prefix,
      'database.include.list': database,
      'table.include.list': `${database}.${table}`,
      'include.schema.changes': 'false',
      'schema.history.internal': 'io.debezium.storage.file.history.FileSchemaHistory',
      'schema.history.internal.file.filename': join(mkdtempSync(join(tmpdir(), 'kelt-debezium-')), 'history.dat'),
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'false',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
    };
  }

  /** Creates the connector (again, after a worker restart: standalone workers keep offsets, not connectors) and waits until its task runs. */
  async start(): Promise<void> {
    const response = await fetch(`${connectUrl}/connectors/${this.name}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(this.config),
    });
    if (!response.ok) throw new Error(`Kafka Connect refused the connector: ${response.status} ${await response.text()}`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = await fetch(`${connectUrl}/connectors/${this.name}/status`).then((r) => (r.ok ? r.json() : undefined));
      const task = (status as { tasks?: Array<{ state: string; trace?: string }> } | undefined)?.tasks?.[0];
      if (task?.state === 'RUNNING') return;
      if (task?.state === 'FAILED') throw new Error(`the connector's task failed: ${task.trace?.slice(0, 2_000)}`);
      if (Date.now() > deadline) throw new Error(`the connector did not run within 120 s: ${JSON.stringify(status)}`);
      await sleep(500);
    }
  }

  /**
   * Waits until the worker has committed a streaming offset (one past the
   * snapshot). A worker killed before that starts the snapshot again, and a
   * snapshot cannot tell of rows deleted since the last one: Debezium's
   * limit, not a fault this test is about.
   */
  async streamingOffsetCommitted(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const body = await fetch(`${connectUrl}/connectors/${this.name}/offsets`).then((r) => (r.ok ? r.json() : undefined));
      const offsets = (body as { offsets?: Array<{ offset: Record<string, unknown> }> } | undefined)?.offsets ?? [];
      if (offsets.some(({ offset }) => offset.snapshot === undefined && offset.pos !== undefined)) return;
      if (Date.now() > deadline) throw new Error(`no streaming offset committed within 60 s: ${JSON.stringify(body)}`);
      await sleep(250);
    }
  }

  async delete(): Promise<void> {
    await fetch(`${connectUrl}/connectors/${this.name}`, { method: 'DELETE' });
  }
}

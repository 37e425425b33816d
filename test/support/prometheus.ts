import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './pipeline.ts';
import { freePort } from './stack.ts';

const alertRules = fileURLToPath(new URL('../../docker/monitoring/kelt-alerts.yml', import.meta.url));
const logDir = fileURLToPath(new URL('../../test-results/', import.meta.url));

export interface PrometheusSample {
  metric: Record<string, string>;
  value: number;
}

/**
 * A real Prometheus (the binary `scripts/stack tools` unpacks) on loopback,
 * scraping the given targets every second with kelt's alert rules loaded,
 * its data in a temporary directory removed by `stop()`.
 */
export class PrometheusServer {
  readonly url: string;
  private readonly child: ChildProcess;
  private readonly dataDir: string;

  private constructor(url: string, child: ChildProcess, dataDir: string) {
    this.url = url;
    this.child = child;
    this.dataDir = dataDir;
  }

  static async start(binary: string, targets: Array<{ job: string; target: string }>): Promise<PrometheusServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'kelt-prometheus-'));
    const port = await freePort();
    const jobs = [...new Set(targets.map(({ job }) => job))];
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [alertRules],
      scrape_configs: jobs.map((job) => ({
        job_name: job,
        static_configs: [{ targets: targets.filter((t) => t.job === job).map((t) => t.target) }],
      })),
    };
    // JSON is YAML: Prometheus reads this config as it is.
    writeFileSync(join(dataDir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    mkdirSync(logDir, { recursive: true });
    const log = openSync(join(logDir, 'prometheus.log'), 'a');
    const child = spawn(
      binary,
      [`--config.file=${join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', log, log] },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dataDir);
    await waitFor(
      'Prometheus to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}; see test-results/prometheus.log`);
        return (await fetch(`${server.url}/-/ready`).catch(() => undefined))?.ok === true;
      },
      60_000,
    );
    return server;
  }

  /** An instant query through the HTTP API. */
  async query(promql: string): Promise<PrometheusSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
  }

  /** The value of a query that returns one sample per `label` value, as a record. */
  async valuesBy(promql: string, label: string): Promise<Record<string, number>> {
    return Object.fromEntries((await this.query(promql)).map(({ metric, value }) => [metric[label] ?? '', value]));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

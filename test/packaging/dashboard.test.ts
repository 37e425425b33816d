import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** The metric names kelt defines (src/metrics) and the recording rules' names. */
function definedNames(): Set<string> {
  const metrics = [...read('../../src/metrics/stage-metrics.ts').matchAll(/name: '(kelt_[a-z_]+)'/g)].map((m) => m[1]!);
  const recorded = [...read('../../docker/monitoring/kelt-alerts.yml').matchAll(/record: (kelt:[a-z_:0-9]+)/g)].map((m) => m[1]!);
  return new Set([...metrics, ...recorded]);
}

/** kelt's names a PromQL expression uses, histogram suffixes folded into their metric. */
function usedNames(expr: string): string[] {
  return [...expr.matchAll(/\b(kelt(?:_|:)[a-zA-Z_:0-9]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

describe('Grafana dashboard and alert rules', () => {
  const dashboard = JSON.parse(read('../../docker/monitoring/kelt-dashboard.json')) as {
    uid: string;
    panels: Array<{ type: string; title: string; targets?: Array<{ expr?: string; rawSql?: string }> }>;
  };
  const defined = definedNames();

  it('query only metrics that kelt defines', () => {
    // Prometheus queries; the MySQL ones (rawSql) run against real aggregate tables in test/integration/aggregates.test.ts.
    const queries = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ panel: panel.title, expr: target.expr }])),
    );
    expect(queries.length).toBeGreaterThan(10);
    for (const { panel, expr } of queries) {
      for (const name of usedNames(expr)) expect(defined, `${panel}: ${expr}`).toContain(name);
    }
    const alerts = read('../../docker/monitoring/kelt-alerts.yml');
    for (const expr of alerts.matchAll(/expr: (.*)/g)) {
      for (const name of usedNames(expr[1]!)) expect(defined, expr[1]).toContain(name);
    }
  });

  it('has the panels an operator needs', () => {
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase()).join('\n');
    for (const topic of [
      'records in',
      'records out',
      'lag per partition',
      'end-to-end latency',
      'dead letters',
      'worker pool',
      'mysql write latency',
      'ready members',
      'memory',
    ]) {
      expect(titles).toContain(topic);
    }
    expect(dashboard.uid).toBe('kelt-pipeline');
  });
});

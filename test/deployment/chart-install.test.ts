import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmFor } from '../support/helm.ts';
import { KubeApi, type KubeObject } from '../support/kube-api.ts';
import { uniqueName } from '../support/stack.ts';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const chart = path('../../helm/kelt');
const valueSets: Record<string, string[]> = {
  'the default values': [],
  'the pageviews example': ['-f', path('../../helm/kelt/examples/pageviews.yaml')],
  'every feature on': ['-f', path('../packaging/values-full.yaml')],
  'mTLS with a principal per role, migrate as the DDL user, the image by digest': ['-f', path('../packaging/values-secured.yaml')],
  'the HTTP collector with an Ingress, an HPA and a NetworkPolicy': ['-f', path('../packaging/values-collector.yaml')],
};

const kube = inject('kube');
const noPulls = ['--set', 'image.pullPolicy=Never'];
const api = new KubeApi(kube.kubeconfig);

const helm = helmFor(inject('tools').helm, kube.kubeconfig);

const manifestsOf = (yaml: string): KubeObject[] =>
  parseAllDocuments(yaml)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);

/** Every object of a release's manifest, as the API server answers for it. */
async function stored(release: string, namespace: string): Promise<Array<{ object: KubeObject; status: number }>> {
  const objects = manifestsOf(await helm('get', 'manifest', release, '-n', namespace));
  return Promise.all(objects.map(async (object) => ({ object, status: (await api.get(object, namespace)).status })));
}

const namespaceFor = (what: string) => uniqueName(`kelt-${what}`).replace(/_/g, '-');

/**
 * The API server's view of each release: installed with --no-hooks and
 * never pulled from (pullPolicy Never: the nodes hold only the test's image,
 * and these values name the published one), with the migrate hook's objects
 * created with dryRun=All, which runs the same validation and admission.
 * chart-pods.test.ts runs the hooks and the pods for real.
 */
describe('the Helm chart on a real kube-apiserver', () => {
  beforeAll(async () => {
    // The CRDs of the Prometheus Operator and KEDA, as a chart's crds/ (helm waits until they are established).
    const crdChart = mkdtempSync(join(tmpdir(), 'kelt-crds-'));
    writeFileSync(join(crdChart, 'Chart.yaml'), 'apiVersion: v2\nname: kelt-test-crds\nversion: 0.1.0\n');
    mkdirSync(join(crdChart, 'crds'));
    cpSync(kube.crds, join(crdChart, 'crds'), { recursive: true });
    await helm('upgrade', '--install', 'kelt-test-crds', crdChart, '-n', 'kube-system');
  });

  for (const [name, values] of Object.entries(valueSets)) {
    it(`installs with ${name}: the API server accepts and stores every object, and the migrate hook's`, async () => {
      const namespace = namespaceFor('install');
      await helm('install', 'kelt', chart, '-n', namespace, '--create-namespace', '--no-hooks', ...noPulls, ...values);
      const objects = await stored('kelt', namespace);
      expect(objects.filter(({ status }) => status !== 200).map(({ object }) => `${object.kind}/${object.metadata.name}`)).toEqual([]);
      // The three stages, and the collector where it is enabled.
      expect(objects.filter(({ object }) => object.kind === 'Deployment')).toHaveLength(name.includes('collector') ? 4 : 3);

      const hooks = manifestsOf(await helm('template', 'kelt', chart, '-n', namespace, '--show-only', 'templates/migrate-job.yaml', ...values));
      expect(hooks.map((hook) => hook.kind)).toContain('Job');
      for (const hook of hooks) {
        const created = await api.createDryRun(hook, namespace);
        expect(created.status, `${hook.kind}/${hook.metadata.name}: ${JSON.stringify(created.body?.message)}`).toBe(201);
      }
      await helm('uninstall', 'kelt', '-n', namespace, '--wait');
    });
  }

  it('installs every optional object kind when every feature is on: ServiceMonitor, PrometheusRule, ScaledObject, NetworkPolicy', async () => {
    const namespace = namespaceFor('kinds');
    await helm('install', 'kelt', chart, '-n', namespace, '--create-namespace', '--no-hooks', ...noPulls, ...valueSets['every feature on']!);
    const kinds = new Set((await stored('kelt', namespace)).filter(({ status }) => status === 200).map(({ object }) => object.kind));
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ScaledObject', 'PodDisruptionBudget', 'Secret', 'NetworkPolicy'])
      expect(kinds, kind).toContain(kind);
    await helm('uninstall', 'kelt', '-n', namespace, '--wait');
  });

  it('upgrades with a changed spec (the Deployments roll), rolls back to the first revision, and uninstalls without a trace', async () => {
    const namespace = namespaceFor('upgrade');
    const example = valueSets['the pageviews example']!;
    const load = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kelt-load' } };
    await helm('install', 'kelt', chart, '-n', namespace, '--create-namespace', '--no-hooks', ...noPulls, ...example);
    const installed = (await api.get(load, namespace)).body as KubeObject;

    await helm('upgrade', 'kelt', chart, '-n', namespace, '--no-hooks', ...noPulls, ...example, '--set', 'pipeline.spec.batch.insertRows=500');
    const upgraded = (await api.get(load, namespace)).body as KubeObject;
    expect(upgraded.spec.template.metadata.annotations['checksum/pipeline']).not.toBe(
      installed.spec.template.metadata.annotations['checksum/pipeline'],
    );
    // A new pod template: the Deployment controller would roll its pods.
    expect(upgraded.metadata.generation).toBe(installed.metadata.generation! + 1);

    await helm('rollback', 'kelt', '1', '-n', namespace, '--no-hooks');
    const rolledBack = (await api.get(load, namespace)).body as KubeObject;
    expect(rolledBack.spec.template.metadata.annotations['checksum/pipeline']).toBe(
      installed.spec.template.metadata.annotations['checksum/pipeline'],
    );
    expect(await helm('history', 'kelt', '-n', namespace, '-o', 'json').then((out) => (JSON.parse(out) as unknown[]).length)).toBe(3);

    const objects = manifestsOf(await helm('get', 'manifest', 'kelt', '-n', namespace));
    await helm('uninstall', 'kelt', '-n', namespace, '--wait');
    const statuses = await Promise.all(objects.map(async (object) => (await api.get(object, namespace)).status));
    expect(statuses.filter((status) => status !== 404)).toEqual([]);
  });

  it('refuses a wrong value at install with the chart schema’s message, and installs nothing', async () => {
    const namespace = namespaceFor('refused');
    const failed = await helm(
      'install',
      'kelt',
      chart,
      '-n',
      namespace,
      '--create-namespace',
      '--no-hooks',
      '--set',
      'stages.load.replicas=three',
    ).then(
      () => undefined,
      (error: { stderr: string }) => error.stderr,
    );
    expect(failed).toMatch(/stages\/load\/replicas.*got string, want integer/);
    expect(JSON.parse(await helm('list', '-n', namespace, '-o', 'json'))).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { exposeNodePort, killNodeContainer } from '../../scripts/deployment-script.ts';
import type { PipelineSpecInput } from '../../src/pipeline/spec.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { countPipeline, expectExactlyOnce } from '../support/fault-run.ts';
import { helmFor } from '../support/helm.ts';
import { KubeApi } from '../support/kube-api.ts';
import { PrometheusServer } from '../support/prometheus.ts';
import { createTestPipeline, filesAt, pageviewsSpecPath, waitCaughtUp, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { freePort, uniqueName } from '../support/stack.ts';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const chart = path('../../helm/kelt');
const oneMachine = path('../../helm/kelt/examples/one-machine.yaml');
const kube = inject('kube');
const api = new KubeApi(kube.kubeconfig);
const image = inject('image');
const [imageRepository, imageTag] = image.name.split(':') as [string, string];
const stages = ['extract', 'load', 'transform'] as const;
type Stage = (typeof stages)[number];
const RATE = 200;

// Version 2 of the example's transform, shipped in the chart's pipeline files:
// the rows it models say so in browser_name.
const transformV2 = `import transform, { remove } from '/app/schemas/pageviews.transform.ts';
export { remove };
export default (event) => {
  const rows = transform(event);
  return { fct_pageviews: { ...rows.fct_pageviews, browser_name: \`v2:\${rows.fct_pageviews.browser_name ?? ''}\` } };
};
`;

const helm = helmFor(inject('tools').helm, kube.kubeconfig);

const deployment = (stage: Stage) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `kelt-${stage}` } });
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name } });

/**
 * The example pipeline installed from the chart onto three nodes of this
 * machine (scripts/kube-node): the migrate hook Job, the stages as pods, and
 * what users do to them while events flow, each step ending in exact counts
 * of every topic and table and in aggregates equal to GROUP BY over the model.
 */
describe('the chart’s pods on real nodes, under load', () => {
  const namespace = uniqueName('kelt-pods').replace(/_/g, '-');
  let t: TestPipeline;
  let values: string;
  let transformFile: string;
  let produced = 0;

  const pods = async (stage: Stage) =>
    (await api.list({ apiVersion: 'v1', kind: 'Pod' }, namespace, `app.kubernetes.io/component=${stage}`)).filter(
      (pod) => pod.metadata.deletionTimestamp === undefined,
    );

  /** The Deployment's every member is of its latest template and Ready, and no other pod of it is left. */
  const rolledOut = (stage: Stage, replicas: number) =>
    waitFor(
      `${replicas} ready member(s) of ${stage}`,
      async () => {
        const { body } = await api.get(deployment(stage), namespace);
        const status = body.status ?? {};
        const all = await api.list({ apiVersion: 'v1', kind: 'Pod' }, namespace, `app.kubernetes.io/component=${stage}`);
        return (
          status.observedGeneration >= body.metadata.generation &&
          status.updatedReplicas === replicas &&
          status.readyReplicas === replicas &&
          status.availableReplicas === replicas &&
          all.length === replicas
        );
      },
      240_000,
    );

  /** Produces `events` at RATE while `operation` runs, then waits for every stage to catch up and counts everything. */
  async function underLoad(scenario: string, events: number, operation: () => Promise<void>): Promise<void> {
    const started = Date.now();
    const producing = produceEvents(t.pipeline, generatedEvents(t.pipeline.source.generatorPath!, events, produced), t.connections, { rate: RATE });
    const failure = producing.then(
      () => undefined,
      (error: unknown) => error,
    );
    await operation();
    const produceFailure = await failure;
    if (produceFailure !== undefined) throw produceFailure;
    produced += events;
    await waitCaughtUp(t);
    const counts = await countPipeline(t, scenario, produced, (Date.now() - started) / 1000);
    console.log(`chart pods: ${scenario}: ${JSON.stringify({ ...counts, aggregateDifferences: undefined })}`);
    expectExactlyOnce(counts, produced);
  }

  beforeAll(async () => {
    const name = uniqueName('pods').replace(/_/g, '-');
    const overrides = { name, consumer: { sessionTimeoutMs: 10_000 }, pool: { threads: 1 } };
    t = await createTestPipeline(overrides, undefined, { migrated: false });
    // The chart's copy of the spec names the image's files; the test's (t) this checkout's.
    const document = parseYaml(readFileSync(pageviewsSpecPath, 'utf8')) as PipelineSpecInput;
    const spec = { ...document, ...overrides, ...filesAt(document, (relative) => posix.join('/app/schemas', relative)) };
    const dir = mkdtempSync(join(tmpdir(), 'kelt-pods-'));
    values = join(dir, 'values.yaml');
    transformFile = join(dir, 'pageviews-v2.transform.ts');
    writeFileSync(transformFile, transformV2);
    writeFileSync(values, stringifyYaml({ image: { repository: imageRepository, tag: imageTag }, mysql: { url: t.db.url }, pipeline: { spec } }));
  });

  afterAll(async () => {
    await helm('uninstall', 'kelt', '-n', namespace, '--wait').catch((error: unknown) => console.error(error));
    await t?.cleanup();
  });

  it('installs: the migrate hook Job completes, each stage’s pod turns Ready by its probes, and events produced from outside land', async () => {
    // helm's --wait passes at once here: under hostNetwork a Deployment of one member may have none available (maxUnavailable 1).
    await helm('install', 'kelt', chart, '-n', namespace, '--create-namespace', '-f', oneMachine, '-f', values, '--wait', '--timeout', '6m');
    for (const stage of stages) await rolledOut(stage, 1);
    const job = await api.get({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'kelt-migrate' } }, namespace);
    expect(job.body.status.succeeded).toBe(1);
    for (const stage of stages) {
      const [member, ...others] = await pods(stage);
      expect(others).toEqual([]);
      expect(member.spec.hostNetwork).toBe(true);
      expect(member.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
      expect(member.status.containerStatuses[0].restartCount).toBe(0);
    }
    await underLoad('installed', 2_000, async () => undefined);
  });

  it('serves each pod’s /metrics behind its stage’s Service to a real Prometheus, with the totals of what landed', async () => {
    // The Service's endpoints as its selector and target port name them: the
    // pods have no IP here (nor their nodes), so each is reached through its node.
    const targets = [];
    for (const stage of stages) {
      const service = (await api.get({ apiVersion: 'v1', kind: 'Service', metadata: { name: `kelt-${stage}` } }, namespace)).body;
      const selector = Object.entries(service.spec.selector as Record<string, string>)
        .map(([key, value]) => `${key}=${value}`)
        .join(',');
      const targetPort = service.spec.ports[0].targetPort as string;
      for (const member of await api.list({ apiVersion: 'v1', kind: 'Pod' }, namespace, selector)) {
        const port = member.spec.containers[0].ports.find((p: { name: string }) => p.name === targetPort).containerPort as number;
        targets.push({ job: 'kelt', target: await exposeNodePort(member.spec.nodeName, port, await freePort()) });
      }
    }
    expect(targets).toHaveLength(3);
    const prometheus = await PrometheusServer.start(inject('tools').prometheus, targets);
    try {
      const selector = `pipeline="${t.pipeline.name}"`;
      const expected = {
        up: 3,
        consumed: { extract: produced, load: produced, transform: produced },
        written: { load: produced, transform: produced },
      };
      let seen: Record<string, unknown> = {};
      await waitFor('Prometheus to hold the totals of every stage', async () => {
        seen = {
          up: (await prometheus.query('up{job="kelt"} == 1')).length,
          consumed: await prometheus.valuesBy(`sum by (stage) (kelt_records_consumed_total{${selector}})`, 'stage'),
          written: await prometheus.valuesBy(`sum by (stage) (kelt_records_written_total{${selector}}) > 0`, 'stage'),
        };
        return isDeepStrictEqual(seen, expected);
      }).catch((error: Error) => {
        throw new Error(`${error.message}; Prometheus last showed ${JSON.stringify(seen)}`);
      });
    } finally {
      await prometheus.stop();
    }
  });

  it('scales load from 1 to 3 members and back while events flow', async () => {
    await underLoad('load scaled 1 → 3 → 1', 6_000, async () => {
      await api.patch(deployment('load'), namespace, { spec: { replicas: 3 } }, 'scale');
      await rolledOut('load', 3);
      expect(new Set((await pods('load')).map((pod) => pod.spec.nodeName)).size).toBe(3);
      await api.patch(deployment('load'), namespace, { spec: { replicas: 1 } }, 'scale');
      await rolledOut('load', 1);
    });
  });

  it('upgrades to a changed transform: every stage rolls, and what is produced after models by the new transform', async () => {
    const changed = [
      '--set-file',
      `pipeline.files.pageviews-v2\\.transform\\.ts=${transformFile}`,
      '--set',
      'pipeline.spec.transform.module=pageviews-v2.transform.ts',
    ];
    await underLoad('upgraded to a changed transform', 4_000, async () => {
      await helm('upgrade', 'kelt', chart, '-n', namespace, '-f', oneMachine, '-f', values, ...changed, '--wait', '--timeout', '6m');
      for (const stage of stages) await rolledOut(stage, 1);
    });
    await underLoad('after the upgrade', 1_000, async () => undefined);
    const [rows] = await t.db.pool.query("SELECT COUNT(*) AS n FROM fct_pageviews WHERE browser_name LIKE 'v2:%'");
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBeGreaterThanOrEqual(1_000);
  });

  it('replaces a deleted pod, one deleted with grace period 0, and a container killed on its node', async () => {
    await underLoad('pods deleted and a container killed', 6_000, async () => {
      const [transform] = await pods('transform');
      await api.delete(pod(transform.metadata.name), namespace);
      const [load] = await pods('load');
      await api.delete(pod(load.metadata.name), namespace, 0);
      await rolledOut('transform', 1);
      await rolledOut('load', 1);
      const [extract] = await pods('extract');
      await killNodeContainer(extract.spec.nodeName, extract.status.containerStatuses[0].containerID);
      await waitFor('extract restarted by its kubelet', async () => {
        const [restarted] = await pods('extract');
        return restarted.status.containerStatuses[0].restartCount === 1 && restarted.status.containerStatuses[0].ready === true;
      });
    });
  });
});

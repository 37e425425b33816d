import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const chart = path('../../helm/kelt');
const fullValues = path('./values-full.yaml');
const securedValues = path('./values-secured.yaml');
const collectorValues = path('./values-collector.yaml');
const exampleValues = path('../../helm/kelt/examples/pageviews.yaml');
const stages = ['extract', 'load', 'transform'] as const;

interface Manifest {
  kind: string;
  apiVersion: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

async function helm(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(inject('tools').helm, args, { maxBuffer: 32 * 1024 * 1024 });
}

async function render(...valueFiles: string[]): Promise<Manifest[]> {
  const { stdout } = await helm('template', 'kelt', chart, '--kube-version', '1.30.0', ...valueFiles.flatMap((f) => ['-f', f]));
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const named = (manifests: Manifest[], kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};

describe('Helm chart (helm lint, helm template)', () => {
  let full: Manifest[];
  beforeAll(async () => {
    full = await render(fullValues);
  });

  it('passes helm lint with the default values and with every option on', async () => {
    for (const args of [[], ['-f', fullValues], ['-f', exampleValues]]) {
      const { stdout } = await helm('lint', chart, '--strict', ...args);
      expect(stdout).toContain('0 chart(s) failed');
    }
  });

  it('renders the pageviews example from one values file, as helm install would', async () => {
    // `helm install --dry-run` needs a reachable cluster; `helm template` is the same render without one.
    const example = await render(exampleValues);
    expect(
      byKind(example, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(stages.map((s) => `kelt-${s}`));
    const spec = parseYaml(named(example, 'ConfigMap', 'kelt-pipeline').data!['pipeline.yaml']!) as { name: string; transform: { module: string } };
    expect(spec.name).toBe('pageviews');
    // The example's files are in the image (docker/Dockerfile copies schemas/, the example's spec, schema, generator and transform).
    expect(spec.transform.module).toBe('/app/schemas/pageviews.transform.ts');
    expect(readFileSync(path('../../docker/Dockerfile'), 'utf8')).toContain('COPY schemas ./schemas');
    const env = named(example, 'Deployment', 'kelt-load').spec.template.spec.containers[0].env as Array<{ name: string; valueFrom?: any }>;
    expect(env.find((e) => e.name === 'KELT_MYSQL_URL')?.valueFrom.secretKeyRef).toEqual({ name: 'kelt-mysql', key: 'url' });
  });

  it('gives every stage a Deployment with probes, resources, a grace period longer than its drain, and a locked-down security context', () => {
    const values = parseYaml(readFileSync(fullValues, 'utf8')) as { stages: Record<string, { graceSeconds: number }> };
    for (const stage of stages) {
      const deployment = named(full, 'Deployment', `kelt-${stage}`);
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      expect(container.args.slice(0, 3)).toEqual([stage, '--pipeline', '/etc/kelt/pipeline/pipeline.yaml']);
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.resources.requests.cpu).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(values.stages[stage]!.graceSeconds);
      expect(container.args).toContain(String(values.stages[stage]!.graceSeconds));
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['pipeline', 'tmp', 'kafka-ca', 'mysql-ca']));
      expect(pod.volumes.find((v: { name: string }) => v.name === 'tmp').emptyDir).toEqual({ sizeLimit: '32Mi' });
      expect(deployment.spec.template.metadata.annotations['checksum/pipeline']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('lets a stage be scraped only from the monitoring namespace, and reach only DNS and the listed ports', async () => {
    for (const component of [...stages, 'migrate']) {
      const policy = named(full, 'NetworkPolicy', `kelt-${component}`);
      expect(policy.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe(component);
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec.egress).toEqual([
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { ports: [{ protocol: 'TCP', port: 9096 }], to: [{ ipBlock: { cidr: '10.20.0.0/16' } }] },
        { ports: [{ protocol: 'TCP', port: 443 }] },
        { ports: [{ protocol: 'TCP', port: 3306 }], to: [{ ipBlock: { cidr: '10.30.1.5/32' } }] },
      ]);
      if (component === 'migrate') expect(policy.spec.ingress).toEqual([]);
      else {
        expect(policy.spec.ingress).toEqual([
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }],
            ports: [{ protocol: 'TCP', port: 9464 }],
          },
        ]);
      }
    }
    expect(byKind(await render(), 'NetworkPolicy')).toHaveLength(0);
  });

  it('gives each role its own Kafka certificate, migrate its own MySQL user, and mounts every certificate from its Secret', async () => {
    const secured = await render(securedValues);
    const podOf = (kind: string, name: string) => named(secured, kind, name).spec.template.spec;
    const envOf = (pod: any) =>
      Object.fromEntries(
        (pod.containers[0].env as Array<{ name: string; value?: string; valueFrom?: any }>).map((e) => [e.name, e.value ?? e.valueFrom]),
      );
    const secretOf = (pod: any, volume: string) =>
      (pod.volumes as Array<{ name: string; secret?: { secretName: string } }>).find((v) => v.name === volume)?.secret?.secretName;
    const roles = [
      ...stages.map((stage) => [stage, podOf('Deployment', `kelt-${stage}`)] as const),
      ['migrate', podOf('Job', 'kelt-migrate')] as const,
    ];
    for (const [role, pod] of roles) {
      expect(pod.containers[0].image).toBe('registry.example.com/kelt@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
      const env = envOf(pod);
      expect(env).toMatchObject({
        KELT_KAFKA_TLS_CERT_FILE: '/etc/kelt/tls/kafka-client/tls.crt',
        KELT_KAFKA_TLS_KEY_FILE: '/etc/kelt/tls/kafka-client/tls.key',
        KELT_SCHEMA_REGISTRY_CA_FILE: '/etc/kelt/tls/registry/ca.crt',
        KELT_SCHEMA_REGISTRY_CERT_FILE: '/etc/kelt/tls/registry-client/tls.crt',
        KELT_MYSQL_TLS_CERT_FILE: '/etc/kelt/tls/mysql-client/tls.crt',
      });
      expect(env.KELT_MYSQL_URL.secretKeyRef.name, role).toBe(role === 'migrate' ? 'kelt-mysql-ddl' : 'kelt-mysql-dml');
      expect(secretOf(pod, 'kafka-client'), role).toBe(`kelt-${role}-cert`);
      expect(secretOf(pod, 'registry-client')).toBe('registry-client');
      expect(secretOf(pod, 'mysql-client')).toBe('mysql-client');
      const mounts = pod.containers[0].volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>;
      expect(mounts.find((m) => m.name === 'kafka-client')).toEqual({
        name: 'kafka-client',
        mountPath: '/etc/kelt/tls/kafka-client',
        readOnly: true,
      });
    }

    const oauth = await render(securedValues, path('./values-oauth.yaml'));
    const env = envOf(named(oauth, 'Deployment', 'kelt-load').spec.template.spec);
    expect(env).toMatchObject({ KELT_KAFKA_SASL_MECHANISM: 'oauthbearer', KELT_KAFKA_OAUTH_TOKEN_FILE: '/etc/kelt/kafka-token/token' });
    expect(env.KELT_KAFKA_SASL_PASSWORD).toBeUndefined();
    expect(secretOf(named(oauth, 'Deployment', 'kelt-load').spec.template.spec, 'kafka-token')).toBe('kelt-load-cert');
  });

  it('passes the secret variables as files from their Secrets when asked, and never as values', async () => {
    const asFiles = await render(fullValues, path('./values-secrets-as-files.yaml'));
    for (const [kind, name] of [...stages.map((stage) => ['Deployment', `kelt-${stage}`]), ['Job', 'kelt-migrate']] as const) {
      const pod = named(asFiles, kind, name).spec.template.spec;
      const env = pod.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>;
      for (const variable of ['KELT_MYSQL_URL', 'KELT_KAFKA_SASL_PASSWORD', 'KELT_SCHEMA_REGISTRY_PASSWORD']) {
        expect(
          env.find((e) => e.name === variable),
          `${name} ${variable}`,
        ).toBeUndefined();
        const file = env.find((e) => e.name === `${variable}_FILE`)!.value!;
        const volume = variable.toLowerCase().replaceAll('_', '-');
        expect(file.startsWith(`/etc/kelt/secrets/${volume}/`), file).toBe(true);
        expect(pod.volumes.find((v: { name: string }) => v.name === volume).secret.secretName).toBe(
          kind === 'Job' ? 'kelt-migrate' : 'kelt-credentials',
        );
        expect(pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === volume).mountPath).toBe(`/etc/kelt/secrets/${volume}`);
      }
    }
  });

  it('refuses SASL without TLS unless allowed, and a client certificate without a Secret', async () => {
    const plain = ['--set', 'kafka.sasl.mechanism=scram-sha-512', '--set', 'kafka.sasl.existingSecret=kafka-creds'];
    await expect(helm('template', 'kelt', chart, ...plain)).rejects.toThrow(/SASL without kafka.tls.enabled sends credentials in clear text/);
    await expect(helm('template', 'kelt', chart, ...plain, '--set', 'kafka.sasl.allowPlaintext=true')).resolves.toBeDefined();
    await expect(
      helm('template', 'kelt', chart, '--set', 'kafka.tls.enabled=true', '--set', 'kafka.tls.clientCertificate.enabled=true'),
    ).rejects.toThrow(/kafka.tls.clientCertificate: give existingSecret, or every role's kafkaSecret/);
  });

  it('refuses an open collector unless allowed by name, and registry basic auth over http:// unless allowed', async () => {
    await expect(helm('template', 'kelt', chart, '--set', 'collector.enabled=true')).rejects.toThrow(/collector: no tokensSecret/);
    await expect(helm('template', 'kelt', chart, '--set', 'collector.enabled=true', '--set', 'collector.allowAnonymous=true')).resolves.toBeDefined();
    const auth = ['--set', 'schemaRegistry.auth.username=key', '--set', 'schemaRegistry.auth.password=secret'];
    await expect(helm('template', 'kelt', chart, ...auth)).rejects.toThrow(/schemaRegistry.auth: basic auth over an http:\/\/ URL/);
    const allowed = await helm('template', 'kelt', chart, ...auth, '--set', 'schemaRegistry.auth.allowPlaintext=true');
    expect(allowed.stdout).toContain('KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT');
  });

  it('runs on the node’s network when asked: each stage on its own port, no surge, the migrate job too; refuses two stages on one port', async () => {
    const oneMachine = await render(path('../../helm/kelt/examples/one-machine.yaml'));
    const ports = stages.map((stage) => {
      const pod = named(oneMachine, 'Deployment', `kelt-${stage}`).spec.template.spec;
      expect(pod).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
      expect(named(oneMachine, 'Deployment', `kelt-${stage}`).spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
      const container = pod.containers[0];
      const port = container.ports.find((p: { name: string }) => p.name === 'http').containerPort as number;
      expect(container.env.find((e: { name: string }) => e.name === 'KELT_HTTP_PORT').value).toBe(String(port));
      return port;
    });
    expect(ports).toEqual([9464, 9465, 9466]);
    expect(named(oneMachine, 'Job', 'kelt-migrate').spec.template.spec.hostNetwork).toBe(true);
    // Before the release's own ServiceAccount exists, the hook job runs as its hook copy.
    expect(named(oneMachine, 'Job', 'kelt-migrate').spec.template.spec.serviceAccountName).toBe('kelt-migrate');
    expect(named(oneMachine, 'ServiceAccount', 'kelt-migrate').metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    for (const stage of stages) expect(named(full, 'Deployment', `kelt-${stage}`).spec.template.spec.hostNetwork).toBeUndefined();

    await expect(helm('template', 'kelt', chart, '--set', 'hostNetwork=true')).rejects.toThrow(
      /hostNetwork: extract and load both serve on port 9464/,
    );
  });

  it('keeps secrets out of the manifests except in Secrets, and points the env at them', () => {
    for (const manifest of full.filter((m) => m.kind !== 'Secret')) {
      const text = JSON.stringify(manifest);
      for (const secret of ['kafka-s3cret', 'registry-s3cret', 'mysql-s3cret']) expect(text, manifest.metadata.name).not.toContain(secret);
    }
    const env = named(full, 'Deployment', 'kelt-load').spec.template.spec.containers[0].env as Array<{ name: string; valueFrom?: any }>;
    for (const name of ['KELT_MYSQL_URL', 'KELT_KAFKA_SASL_PASSWORD', 'KELT_SCHEMA_REGISTRY_PASSWORD']) {
      expect(env.find((e) => e.name === name)?.valueFrom.secretKeyRef.name, name).toBe('kelt-credentials');
    }
    const secret = named(full, 'Secret', 'kelt-credentials');
    expect(Buffer.from(secret.data!['kafka-sasl-password']!, 'base64').toString()).toBe('kafka-s3cret');
  });

  it('matches the ServiceMonitor selector to every stage Service and its port', () => {
    const monitor = byKind(full, 'ServiceMonitor')[0]!;
    const services = byKind(full, 'Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(stages.map((s) => `kelt-${s}`));
    for (const service of services) {
      for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)) {
        expect(service.metadata.labels?.[key], `${service.metadata.name} ${key}`).toBe(value);
      }
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.spec.endpoints[0].port);
      // The Service selects the pods of its own stage only.
      const deployment = named(full, 'Deployment', service.metadata.name);
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    }
  });

  it('ships in the PrometheusRule the very rules promtool checks', () => {
    const rule = byKind(full, 'PrometheusRule')[0]!;
    const checked = parseYaml(readFileSync(path('../../docker/monitoring/kelt-alerts.yml'), 'utf8')) as { groups: unknown };
    expect(rule.spec.groups).toEqual(checked.groups);
  });

  it('ships the Grafana dashboard in a ConfigMap for the sidecar', () => {
    const dashboard = named(full, 'ConfigMap', 'kelt-dashboard');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard.data!['kelt-dashboard.json']!)).toEqual(
      JSON.parse(readFileSync(path('../../docker/monitoring/kelt-dashboard.json'), 'utf8')),
    );
  });

  it('puts the pipeline spec and its files in a ConfigMap, and copies for the migrate hook', () => {
    const pipeline = named(full, 'ConfigMap', 'kelt-pipeline');
    expect((parseYaml(pipeline.data!['pipeline.yaml']!) as { name: string }).name).toBe('orders');
    expect(Object.keys(pipeline.data!).sort()).toEqual(['order.avsc', 'orders-transform.js', 'pipeline.yaml']);
    const job = named(full, 'Job', 'kelt-migrate');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(job.spec.template.spec.containers[0].args).toEqual(['migrate', '--pipeline', '/etc/kelt/pipeline/pipeline.yaml']);
    for (const kind of ['ConfigMap', 'Secret']) {
      const copy = named(full, kind, 'kelt-migrate');
      expect(Number(copy.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(0);
    }
    expect(named(full, 'ConfigMap', 'kelt-migrate').data).toEqual(pipeline.data);
  });

  it('caps autoscaling at the partition count and scales on lag with KEDA or on CPU with an HPA', () => {
    const keda = named(full, 'ScaledObject', 'kelt-extract');
    expect(keda.spec.maxReplicaCount).toBe(6);
    expect(keda.spec.triggers[0].metadata).toMatchObject({ consumerGroup: 'kelt.orders.extract', topic: 'shop.orders' });
    const hpa = named(full, 'HorizontalPodAutoscaler', 'kelt-load');
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    // An autoscaled Deployment leaves its replica count to the autoscaler.
    expect(named(full, 'Deployment', 'kelt-extract').spec.replicas).toBeUndefined();
    expect(named(full, 'Deployment', 'kelt-transform').spec.replicas).toBe(4);
    expect(byKind(full, 'PodDisruptionBudget')).toHaveLength(3);
  });

  it('rolls the pods when the pipeline changes', async () => {
    const before = named(await render(exampleValues), 'Deployment', 'kelt-load').spec.template.metadata.annotations;
    const { stdout } = await helm(
      'template',
      'kelt',
      chart,
      '--kube-version',
      '1.30.0',
      '-f',
      exampleValues,
      '--set',
      'pipeline.spec.batch.insertRows=500',
    );
    const after = parseAllDocuments(stdout)
      .map((d) => d.toJS() as Manifest)
      .find((m) => m?.kind === 'Deployment' && m.metadata.name === 'kelt-load')!.spec.template.metadata.annotations;
    expect(after['checksum/pipeline']).not.toBe(before['checksum/pipeline']);
  });

  it('rejects values of the wrong type or unknown keys, naming the value', async () => {
    const attempts: Array<[string[], RegExp]> = [
      [['--set', 'stages.load.replicas=three'], /stages\/load\/replicas.*got string, want integer/],
      [['--set', 'kafka.brokers[0]=no-port'], /kafka\/brokers\/0/],
      [['--set', 'stages.extract.autoscaling.kind=vpa'], /stages\/extract\/autoscaling\/kind/],
      [['--set', 'replicaCount=3'], /additional properties 'replicaCount' not allowed/],
    ];
    for (const [args, message] of attempts) {
      const failed = await helm('template', 'kelt', chart, ...args).then(
        () => undefined,
        (error: { stderr: string }) => error.stderr,
      );
      expect(failed, args.join(' ')).toMatch(message);
    }
  });

  it('runs the collector when enabled: its options as arguments, tokens from their Secret, a Service, an Ingress for /events only, an HPA past the partition count', async () => {
    const manifests = await render(collectorValues);
    const deployment = named(manifests, 'Deployment', 'kelt-collect');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toEqual([
      'collect',
      '--pipeline',
      '/etc/kelt/pipeline/pipeline.yaml',
      '--grace',
      '30',
      '--max-body-bytes',
      '1048576',
      '--max-events',
      '10000',
      '--max-buffered',
      '50000',
      '--ack-timeout',
      '10',
      '--cors-origin',
      'https://shop.example.com',
    ]);
    expect(container.env).toContainEqual({
      name: 'KELT_COLLECT_TOKENS',
      valueFrom: { secretKeyRef: { name: 'kelt-collector-tokens', key: 'tokens' } },
    });
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(named(manifests, 'Service', 'kelt-collect').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    const ingress = named(manifests, 'Ingress', 'kelt-collect');
    expect(ingress.spec.rules).toEqual([
      {
        host: 'events.example.com',
        http: { paths: [{ path: '/events', pathType: 'Exact', backend: { service: { name: 'kelt-collect', port: { number: 80 } } } }] },
      },
    ]);
    expect(named(manifests, 'HorizontalPodAutoscaler', 'kelt-collect').spec.maxReplicas).toBe(40);
    expect(named(manifests, 'NetworkPolicy', 'kelt-collect').spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 9464 }] }]);
    // Without it, none of it.
    expect(full.filter((m) => m.metadata.name === 'kelt-collect')).toEqual([]);

    const asFiles = await render(collectorValues, path('./values-secrets-as-files.yaml'));
    const env = named(asFiles, 'Deployment', 'kelt-collect').spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
    expect(env).toContainEqual({ name: 'KELT_COLLECT_TOKENS_FILE', value: '/etc/kelt/secrets/kelt-collect-tokens/tokens' });
    expect(env.map((e) => e.name)).not.toContain('KELT_COLLECT_TOKENS');
  });

  it('documents every value in the chart README (generated from the schema)', async () => {
    await run(path('../../scripts/with-node'), ['node', path('../../scripts/chart-readme.ts'), '--check']);
    const readme = readFileSync(path('../../helm/kelt/README.md'), 'utf8');
    for (const key of ['kafka.sasl.existingSecret', 'stages.transform.autoscaling.lagThreshold', 'metrics.grafanaDashboard.labels']) {
      expect(readme).toContain(`\`${key}\``);
    }
  });
});

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadPipeline, type Pipeline, type PipelineSpecInput } from '../../src/pipeline/spec.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { connectTo, type Connections } from '../../src/runtime/connections.ts';
import { countRows, filesAt, pageviewsSpecPath, waitFor } from '../support/pipeline.ts';
import { createTestDatabase, endpoints, freePort, uniqueName, type TestDatabase } from '../support/stack.ts';

// testcontainers reads these when it first talks to Docker: the project's
// engine; no reaper container (its image cannot be pulled here; every
// container is stopped by the test that started it); and the containers'
// host, 127.0.0.1 since they share the host's network (inside a container,
// testcontainers would look for the gateway of a bridge network this engine
// does not have).
const image = inject('image');
process.env.DOCKER_HOST = image.dockerHost;
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
const { GenericContainer, Wait } = await import('testcontainers');
type Started = Awaited<ReturnType<InstanceType<typeof GenericContainer>['start']>>;

const run = promisify(execFile);
const EVENTS = 2_000;
const GRACE_SECONDS = 20;

/** kelt's image as the chart and compose run it: host network here, read-only root, its own user. */
class KeltContainer extends GenericContainer {
  constructor(command: string[], environment: Record<string, string>) {
    super(image.name);
    this.hostConfig.ReadonlyRootfs = true;
    this.withNetworkMode('host').withCommand(command).withEnvironment(environment).withStartupTimeout(120_000);
  }
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { env: { ...process.env, DOCKER_HOST: image.dockerHost } });
  return stdout;
}

async function inspect(container: Started): Promise<{ User: string; ReadonlyRootfs: boolean; ExitCode: number; Running: boolean }> {
  const fields = await docker(
    'inspect',
    '--format',
    '{{json .Config.User}} {{json .HostConfig.ReadonlyRootfs}} {{json .State.ExitCode}} {{json .State.Running}}',
    container.getId(),
  );
  const [User, ReadonlyRootfs, ExitCode, Running] = fields
    .trim()
    .split(' ')
    .map((field) => JSON.parse(field) as unknown);
  return { User: User as string, ReadonlyRootfs: ReadonlyRootfs as boolean, ExitCode: ExitCode as number, Running: Running as boolean };
}

describe('the image, built from docker/Dockerfile, running every stage against the local stack', () => {
  let db: TestDatabase;
  let connections: Connections;
  let configDir: string;
  let pipeline: Pipeline;
  let environment: Record<string, string>;
  const stages = new Map<string, Started>();
  const logs = new Map<string, string[]>();

  beforeAll(async () => {
    // The example pipeline under a name of its own: the containers' copy names
    // the image's files, the test's own copy this checkout's.
    const document = parseYaml(readFileSync(pageviewsSpecPath, 'utf8')) as PipelineSpecInput;
    const spec: PipelineSpecInput = { ...document, name: uniqueName('img').replace(/_/g, '-') };
    configDir = mkdtempSync(join(tmpdir(), 'kelt-image-'));
    // Readable by the image's user (uid 1000), not only by the test's.
    chmodSync(configDir, 0o755);
    // The image keeps the example's files where the repository does, under /app.
    writeFileSync(
      join(configDir, 'pipeline.yaml'),
      stringifyYaml({ ...spec, ...filesAt(spec, (relative) => posix.resolve('/app/schemas', relative)) }),
    );
    const hostSpec = join(configDir, 'host', 'pipeline.yaml');
    mkdirSync(dirname(hostSpec));
    writeFileSync(hostSpec, stringifyYaml({ ...spec, ...filesAt(spec, (relative) => resolve(dirname(pageviewsSpecPath), relative)) }));
    pipeline = loadPipeline(hostSpec);
    db = await createTestDatabase();
    environment = {
      KELT_KAFKA_BROKERS: endpoints().kafkaBrokers.join(','),
      KELT_SCHEMA_REGISTRY_URL: endpoints().schemaRegistryUrl,
      KELT_MYSQL_URL: db.url,
      KELT_HTTP_HOST: '127.0.0.1',
      KELT_LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await Promise.all([...stages.values()].map((container) => container.stop({ timeout: 1_000 }).catch(() => undefined)));
    if (connections !== undefined) {
      const admin = connections.kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(pipeline.topics) });
      await admin.disconnect();
    }
    await db?.drop();
  });

  it(`migrates, runs extract, load and transform as the unprivileged user on a read-only root, and lands ${EVENTS} events`, async () => {
    const mount = (container: InstanceType<typeof GenericContainer>) =>
      container.withBindMounts([{ source: configDir, target: '/config', mode: 'ro' }]);

    const migrateLog: string[] = [];
    const migrate = await mount(new KeltContainer(['migrate', '--pipeline', '/config/pipeline.yaml'], environment))
      .withWaitStrategy(Wait.forOneShotStartup())
      .withLogConsumer((stream) => stream.on('data', (chunk: Buffer) => migrateLog.push(chunk.toString())))
      .start()
      .catch((error: unknown) => {
        throw new Error(`kelt migrate failed in its container:\n${migrateLog.join('')}`, { cause: error });
      });
    expect((await inspect(migrate)).ExitCode).toBe(0);
    await migrate.stop();

    for (const stage of ['extract', 'load', 'transform']) {
      const port = await freePort();
      const lines: string[] = [];
      logs.set(stage, lines);
      const container = await mount(
        new KeltContainer([stage, '--pipeline', '/config/pipeline.yaml', '--grace', String(GRACE_SECONDS)], {
          ...environment,
          KELT_HTTP_PORT: String(port),
        }),
      )
        // The image's HEALTHCHECK (GET /healthz) is what turns the container healthy.
        .withWaitStrategy(Wait.forHealthCheck())
        .withLogConsumer((stream) => stream.on('data', (chunk: Buffer) => lines.push(chunk.toString())))
        .start();
      stages.set(stage, container);
      const state = await inspect(container);
      expect(state).toMatchObject({ User: 'node', ReadonlyRootfs: true, Running: true });
      const uid = await container.exec(['id', '-u']);
      expect(uid.output.trim()).toBe('1000');
      const write = await container.exec(['touch', '/app/written']);
      expect(write.exitCode).not.toBe(0);
    }

    connections = connectTo({ ...endpoints(), mysqlUrl: db.url }, 'warn', 'test', { pipeline: pipeline.name });
    await produceEvents(pipeline, generatedEvents(pipeline.source.generatorPath!, EVENTS), connections);
    await waitFor(`${EVENTS} rows in fct_pageviews`, async () => (await countRows(db, 'fct_pageviews')) >= EVENTS, 180_000);
    expect(await countRows(db, 'stg_pageviews')).toBe(EVENTS);
    expect(await countRows(db, 'fct_pageviews')).toBe(EVENTS);
  });

  it(`drains and exits 0 on docker stop within the ${GRACE_SECONDS} s grace period`, async () => {
    expect([...stages.keys()]).toEqual(['extract', 'load', 'transform']);
    for (const [stage, container] of stages) {
      // Docker kills what has not exited when its timeout ends (exit 137);
      // the stage itself exits 1 when its drain outlasts the grace period.
      await container.stop({ timeout: (GRACE_SECONDS + 10) * 1_000, remove: false });
      expect((await inspect(container)).ExitCode, stage).toBe(0);
      expect(logs.get(stage)!.join(''), stage).toContain('"msg":"stage stopped"');
      stages.delete(stage);
      await docker('rm', container.getId());
    }
  });
});

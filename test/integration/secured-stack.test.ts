import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipelineAcls, accessRoles, type AccessRole } from '../../src/access/pipeline-acls.ts';
import { envOf, type Endpoints } from '../../src/config/endpoints.ts';
import { openClusterAdmin, type ClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { createMySqlPool, type MySqlPool } from '../../src/mysql/pool.ts';
import { loadPipeline, type Pipeline, type PipelineSpecInput } from '../../src/pipeline/spec.ts';
import type { StageName } from '../../src/pipeline/topology.ts';
import { connectTo } from '../../src/runtime/connections.ts';
import { stageLag } from '../../src/status/lag.ts';
import { pageviewsSpecPath } from '../support/pipeline.ts';
import {
  identityEndpoints,
  runKelt,
  scramPassword,
  secureStackUp,
  writeUnsecuredToken,
  type KafkaIdentity,
  type SecureStack,
} from '../support/secure-stack.ts';
import { uniqueName } from '../support/stack.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

/**
 * The example pipeline on the secured stack (scripts/stack up --secure):
 * every connection over TLS, each role its own Kafka principal with only the
 * ACLs `kelt acls` derives (extract and load by SCRAM-SHA-512, transform by
 * client certificate, produce by OAUTHBEARER, migrate by SCRAM), migrate as
 * MySQL's DDL user and the stages as its DML user (client certificate).
 */
describe('the secured stack', () => {
  let stack: SecureStack;
  let pipeline: Pipeline;
  let specPath: string;
  let database: string;
  let root: MySqlPool;
  let admin: ClusterAdmin;
  let adminEndpoints: Endpoints;
  let migrated: { code: number; output: string };
  const dir = mkdtempSync(join(tmpdir(), 'kelt-secure-'));
  const running: StageProcess[] = [];
  const identities: Record<AccessRole, KafkaIdentity> = {
    migrate: { scram: 'kelt-migrate' },
    extract: { scram: 'kelt-extract' },
    load: { scram: 'kelt-load' },
    transform: { certificate: 'kelt-transform' },
    produce: { tokenFile: join(dir, 'produce.token') },
    collect: { tokenFile: join(dir, 'produce.token') },
  };
  const endpointsOf = (role: AccessRole, mysql: 'ddl' | 'dml' = 'dml') => identityEndpoints(stack, database, identities[role], mysql);
  const start = (stage: StageName, name: string) => {
    const member = startTestStage(stage, specPath, endpointsOf(stage), `secure-${pipeline.name}-${name}`);
    running.push(member);
    return member;
  };
  const count = async (sql: string) => {
    const [rows] = await root.query(sql);
    return Number((rows as Array<{ n: number | string }>)[0]!.n);
  };
  const counts = async () => ({
    staged: await count(`SELECT COUNT(*) AS n FROM stg_pageviews`),
    modeled: await count(`SELECT COUNT(*) AS n FROM fct_pageviews`),
    aggregated: await count(`SELECT COALESCE(SUM(pageviews), 0) AS n FROM agg_daily_active_users`),
    deadLetters: [...(await admin.endOffsets(pipeline.topics.dlq)).values()].reduce((sum, end) => sum + Number(end), 0),
  });
  /** The counts once every stage has caught up with its input (or two minutes passed). */
  const settled = async () => {
    const deadline = Date.now() + 120_000;
    const caughtUp = async () => {
      for (const stage of ['extract', 'load', 'transform'] as const) {
        const lag = await stageLag(admin, pipeline, stage);
        if (lag.lag > 0 || lag.partitions.some((p) => p.end > 0 && p.committed < 0)) return false;
      }
      return true;
    };
    while (!(await caughtUp()) && Date.now() < deadline) await sleep(500);
    return counts();
  };
  const produce = (events: number) => runKelt(['produce', '--pipeline', specPath, '--generate', String(events)], envOf(endpointsOf('produce')));

  beforeAll(async () => {
    stack = await secureStackUp();
    database = uniqueName('kelt_secure');
    adminEndpoints = identityEndpoints(stack, database, { scram: 'admin' }, 'ddl');
    // The tests' own MySQL user (it may grant) sets the database up and reads the counts.
    const tls = { caFile: join(stack.KELT_SECURE_TLS_DIR!, 'kelt-local-ca.pem') };
    const setup = createMySqlPool(stack.KELT_MYSQL_URL!, 1, tls);
    await setup.query(`CREATE DATABASE \`${database}\``);
    await setup.end();
    const rootUrl = new URL(stack.KELT_MYSQL_URL!);
    rootUrl.pathname = `/${database}`;
    root = createMySqlPool(rootUrl.toString(), 2, tls);
    // Two MySQL users: migrate's may change tables, the stages' only rows.
    await root.query(`GRANT CREATE, ALTER, INDEX, REFERENCES, SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.* TO 'kelt_ddl'@'127.0.0.1'`);
    await root.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.* TO 'kelt_dml'@'127.0.0.1'`);

    const document = parseYaml(readFileSync(pageviewsSpecPath, 'utf8')) as PipelineSpecInput;
    const base = resolve(pageviewsSpecPath, '..');
    const spec: PipelineSpecInput = {
      ...document,
      name: uniqueName('sec').replace(/_/g, '-'),
      pool: { threads: 2 },
      source: { ...document.source, schema: resolve(base, document.source.schema), generator: resolve(base, document.source.generator!) },
      transform: { ...document.transform, module: resolve(base, document.transform.module) },
    };
    specPath = join(dir, 'pipeline.yaml');
    writeFileSync(specPath, stringifyYaml(spec));
    pipeline = loadPipeline(specPath);
    writeUnsecuredToken(join(dir, 'produce.token'), 'kelt-produce', 3_600);

    // The admin grants each role's ACLs, as `kelt acls --apply` does; migrate then runs as its own principal.
    admin = await openClusterAdmin(connectTo(adminEndpoints, 'warn', 'test').kafka);
    await admin.createAcls(accessRoles.flatMap((role) => pipelineAcls(pipeline, role, (of) => `User:kelt-${of}`)));
    migrated = await runKelt(['migrate', '--pipeline', specPath], envOf(endpointsOf('migrate', 'ddl')));
    expect(migrated.code, migrated.output).toBe(0);
  });

  afterEach(() => stopStageProcesses(running));

  afterAll(async () => {
    await admin?.close();
    if (root !== undefined) {
      await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await root.end();
    }
  });

  it('runs the example end to end over SCRAM, mTLS and OAUTHBEARER with per-stage ACLs, and no secret reaches a log, /metrics, /readyz or status', async () => {
    const members = [start('extract', 'extract'), start('load', 'load'), start('transform', 'transform')];
    await Promise.all(members.map((member) => member.joined()));
    const produced = await produce(600);
    expect(produced.code, produced.output).toBe(0);
    expect(await settled()).toEqual({ staged: 600, modeled: 600, aggregated: 600, deadLetters: 0 });

    const port = await members[2]!.httpPort();
    const scraped = await Promise.all(['metrics', 'readyz'].map(async (path) => (await fetch(`http://127.0.0.1:${port}/${path}`)).text()));
    const status = await runKelt(['status', '--pipeline', specPath, '--sample', '1'], envOf(adminEndpoints));
    expect(status.code, status.output).toBe(0);
    const seen = [...members.map((member) => readFileSync(member.logFile, 'utf8')), ...scraped, status.output, produced.output, migrated.output].join(
      '\n',
    );
    const secrets = [
      ...['admin', 'kelt-migrate', 'kelt-extract', 'kelt-load', 'kelt-transform', 'kelt-produce'].map(scramPassword),
      stack.KELT_SCHEMA_REGISTRY_PASSWORD!,
      new URL(stack.KELT_SECURE_DDL_URL!).password,
      readFileSync(join(dir, 'produce.token'), 'utf8'),
    ];
    for (const secret of secrets) expect(seen.includes(secret), `a secret (${secret.slice(0, 6)}…) was printed`).toBe(false);
    expect(seen).toContain('joined the group');
  });

  it('refuses a wrong password, an expired token, an untrusted client certificate and MySQL without TLS: a clear message, a non-zero exit', async () => {
    const wrongPassword = {
      ...endpointsOf('extract'),
      kafkaSasl: { mechanism: 'scram-sha-512' as const, username: 'kelt-extract', password: 'not-the-password' },
    };
    const refused = await runKelt(['extract', '--pipeline', specPath], { ...envOf(wrongPassword), KELT_HTTP_PORT: '0' });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('SASL SCRAM SHA512 authentication failed');
    expect(refused.output).not.toContain('not-the-password');

    const expired = identityEndpoints(stack, database, { tokenFile: writeUnsecuredToken(join(dir, 'expired.token'), 'kelt-produce', -600) }, 'dml');
    const late = await runKelt(['produce', '--pipeline', specPath, '--generate', '1'], envOf(expired));
    expect(late.code).not.toBe(0);
    expect(late.output).toMatch(/OAUTHBEARER authentication failed/i);

    const rogue = identityEndpoints(stack, database, { certificate: 'kelt-transform', rogue: true }, 'dml');
    const untrusted = await runKelt(['transform', '--pipeline', specPath], { ...envOf(rogue), KELT_HTTP_PORT: '0' });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.output).toContain('certificate unknown');

    const clearText = identityEndpoints(stack, database, identities.load, 'dml-without-tls');
    const noTls = await runKelt(['load', '--pipeline', specPath], { ...envOf(clearText), KELT_HTTP_PORT: '0' });
    expect(noTls.code).not.toBe(0);
    expect(noTls.output).toContain("Access denied for user 'kelt_dml'");

    expect(await counts()).toEqual({ staged: 600, modeled: 600, aggregated: 600, deadLetters: 0 });
  });

  it('a stage without one of its ACLs stops with the reason; granted again, a new member loads everything exactly once', async () => {
    const groupRead = pipelineAcls(pipeline, 'load', (of) => `User:kelt-${of}`).filter((rule) => rule.resource === 'group');
    expect(groupRead).toHaveLength(1);
    await admin.deleteAcls(groupRead);
    const members = [start('extract', 'extract-2'), start('transform', 'transform-2')];
    await Promise.all(members.map((member) => member.joined()));
    const produced = await produce(300);
    expect(produced.code, produced.output).toBe(0);
    const denied = start('load', 'load-denied');
    const exit = await denied.exit();
    expect(exit.code).not.toBe(0);
    expect(readFileSync(denied.logFile, 'utf8')).toMatch(/Not authorized to access group/);
    expect((await counts()).staged).toBe(600);

    await admin.createAcls(groupRead);
    start('load', 'load-granted');
    // The generator numbers its events from 0 again: the 300 repeat the first 300 keys (rows upserted), and the aggregates, views of fct_pageviews, still count 600.
    expect(await settled()).toEqual({ staged: 600, modeled: 600, aggregated: 600, deadLetters: 0 });
  });
});

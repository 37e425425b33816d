import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openClusterAdmin, type ClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { migrate } from '../../src/migrate/migrate.ts';
import { quoteId } from '../../src/mysql/table.ts';
import { loadPipeline } from '../../src/pipeline/spec.ts';
import { stagingTable } from '../../src/mysql/pipeline-tables.ts';
import { caughtUp, groupLag, stageLag } from '../../src/status/lag.ts';
import { StageProcess } from '../stage-process.ts';
import { runStack } from '../stack-script.ts';
import type { BenchFixture } from './fixture.ts';
import { processUsage } from './process-usage.ts';
import { peerConfig, RedpandaConnectProcess } from './redpanda-connect.ts';

export type Racer = 'kelt' | 'redpanda-connect';

export interface RaceRun {
  racer: Racer;
  rows: number;
  /** From the processes' spawn to the last row in MySQL. */
  fromStartSeconds: number;
  /** From the first row in MySQL to the last. */
  steadySeconds: number;
  fromStartRowsPerSecond: number;
  steadyRowsPerSecond: number;
  /** CPU seconds per 1,000 rows, from spawn to the last row: the racer's own processes, the broker(s), MariaDB. */
  cpuPer1k: { racer: number; broker: number; mariadb: number };
  /** The largest peak RSS among the racer's processes. */
  peakRssMb: number;
}

export interface PeerRace {
  records: number;
  runs: RaceRun[];
  /** Mean of each racer's runs. */
  kelt: Omit<RaceRun, 'racer'>;
  peer: Omit<RaceRun, 'racer'>;
  steadyRatio: number;
  fromStartRatio: number;
}

const logDir = mkdtempSync(join(tmpdir(), 'kelt-bench-race-'));

/**
 * kelt's extract + load against Redpanda Connect on one job: the JSON events
 * already in `fixture`'s raw topic into a table of the staging table's
 * shape, alternating (kelt, peer, kelt, peer…) so that a drift of the
 * machine weighs on both. Each run starts from nothing: new consumer groups,
 * kelt's intermediate topics new, the table emptied.
 */
export async function racePeer(
  fixture: BenchFixture,
  { peerBinary, records, rounds }: { peerBinary: string; records: number; rounds: number },
  onRun: (run: RaceRun) => void,
): Promise<PeerRace> {
  const staging = stagingTable(fixture.pipeline);
  const peerTable = `peer_${staging.name}`;
  const mysql = fixture.connections.mysql(1);
  await mysql.query(`CREATE TABLE IF NOT EXISTS ${quoteId(peerTable)} LIKE ${quoteId(staging.name)}`);
  const runs: RaceRun[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const racer of ['kelt', 'redpanda-connect'] as const) {
        const table = racer === 'kelt' ? staging.name : peerTable;
        await mysql.query(`TRUNCATE TABLE ${quoteId(table)}`);
        const name = `race-${round}`;
        const start = racer === 'kelt' ? await keltRacer(fixture, name) : peerRacer(fixture, peerBinary, name, peerTable);
        const run = await measure({ racer, start }, fixture, table, records);
        runs.push(run);
        onRun(run);
      }
    }
  } finally {
    await mysql.end();
  }
  const kelt = meanOf(runs.filter((run) => run.racer === 'kelt'));
  const peer = meanOf(runs.filter((run) => run.racer === 'redpanda-connect'));
  return {
    records,
    runs,
    kelt,
    peer,
    steadyRatio: kelt.steadyRowsPerSecond / peer.steadyRowsPerSecond,
    fromStartRatio: kelt.fromStartRowsPerSecond / peer.fromStartRowsPerSecond,
  };
}

/** Processes that fill a table once started, and stop. */
interface Started {
  pids(): number[];
  alive(): boolean;
  /** Whether the racer has consumed its input to the end (its groups' committed positions, cheap to ask the broker). */
  caughtUp(admin: ClusterAdmin): Promise<boolean>;
  stop(): Promise<void>;
}

type Starter = () => Started;

/** kelt's extract and load over the raw topic, with intermediate topics (and groups, and MySQL positions) of this run's own. */
async function keltRacer(fixture: BenchFixture, run: string): Promise<Starter> {
  const topics = {
    raw: fixture.pipeline.topics.raw,
    extracted: `${fixture.id}.${run}.extracted`,
    loaded: `${fixture.id}.${run}.loaded`,
    dlq: `${fixture.id}.${run}.dlq`,
  };
  const specPath = fixture.writeSpec(run, { topics });
  const pipeline = loadPipeline(specPath);
  const pool = fixture.connections.mysql(1);
  await migrate(pipeline, { ...fixture.connections, mysql: pool });
  await pool.end();
  return () => {
    const members = (['extract', 'load'] as const).map(
      (stage) => new StageProcess(stage, specPath, fixture.endpoints, { logFile: join(logDir, `${pipeline.name}-${stage}.log`) }),
    );
    return {
      pids: () => members.map((member) => member.pid),
      alive: () => members.every((member) => member.running),
      // Extract first: once it has caught up, the extracted topic's end is final, and load's lag is measured against it.
      caughtUp: async (admin) => caughtUp(await stageLag(admin, pipeline, 'extract')) && caughtUp(await stageLag(admin, pipeline, 'load')),
      stop: async () => void (await Promise.all(members.map((member) => member.signal('SIGTERM')))),
    };
  };
}

function peerRacer(fixture: BenchFixture, binary: string, run: string, tableName: string): Starter {
  const group = `${fixture.id}-${run}-peer`;
  const config = peerConfig({
    brokers: fixture.endpoints.kafkaBrokers,
    topic: fixture.pipeline.topics.raw,
    group,
    mysqlUrl: fixture.endpoints.mysqlUrl!,
    table: stagingTable(fixture.pipeline),
    tableName,
  });
  return () => {
    const peer = new RedpandaConnectProcess(binary, config, logDir, `${fixture.id}-${run}-peer`);
    return {
      pids: () => [peer.pid],
      alive: () => peer.running,
      caughtUp: async (admin) => caughtUp(await groupLag(admin, group, fixture.pipeline.topics.raw)),
      stop: () => peer.stop(),
    };
  };
}

/**
 * Starts a racer and watches it until its table holds `records` rows. The
 * watching must not slow MySQL down: it asks MySQL only whether the table has
 * a row yet (one index probe) and then the broker whether the racer has
 * consumed everything; a COUNT(*) of the table runs only after that, to check.
 */
async function measure({ racer, start }: { racer: Racer; start: Starter }, fixture: BenchFixture, table: string, records: number): Promise<RaceRun> {
  const stack = await runStack(['pids']);
  const brokers = Object.entries(stack)
    .filter(([name]) => name.startsWith('KELT_PID_BROKER_'))
    .map(([, pid]) => Number(pid));
  const mariadb = stack.KELT_PID_MARIADB === undefined ? [] : [Number(stack.KELT_PID_MARIADB)];
  const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + processUsage(pid).cpuSeconds, 0);
  const mysql = fixture.connections.mysql(1);
  const admin = await openClusterAdmin(fixture.connections.kafka);
  const rowCount = async () => {
    const [[{ rows }]] = (await mysql.query(`SELECT COUNT(*) AS \`rows\` FROM ${quoteId(table)}`)) as unknown as [[{ rows: number }]];
    return Number(rows);
  };
  const hasRow = async () => {
    const [found] = (await mysql.query(`SELECT 1 FROM ${quoteId(table)} LIMIT 1`)) as unknown as [unknown[]];
    return found.length > 0;
  };
  const before = { broker: cpuOf(brokers), mariadb: cpuOf(mariadb) };
  const spawned = performance.now();
  const started = start();
  let firstRow = 0;
  let lastRow: number | undefined;
  let racerCpu: number | undefined;
  let peakRssMb = 0;
  try {
    for (;;) {
      if (!started.alive()) throw new Error(`${racer} exited before its table held ${records} rows; logs in ${logDir}`);
      const usage = started.pids().map(processUsage);
      racerCpu = usage.reduce((sum, { cpuSeconds }) => sum + cpuSeconds, 0);
      peakRssMb = Math.max(peakRssMb, ...usage.map((u) => u.peakRssMb));
      if (firstRow === 0 && (await hasRow())) firstRow = performance.now();
      if (firstRow !== 0 && (await started.caughtUp(admin))) {
        lastRow = performance.now();
        const rows = await rowCount();
        if (rows !== records) throw new Error(`${racer} consumed its input but its table holds ${rows} rows, not ${records}`);
        break;
      }
      if (performance.now() - spawned > 600_000) throw new Error(`${racer} did not consume ${records} records within 10 minutes`);
      await sleep(100);
    }
  } finally {
    await started.stop();
    await admin.close();
    await mysql.end();
  }
  const per1k = (seconds: number) => (seconds / records) * 1000;
  const fromStartSeconds = (lastRow - spawned) / 1000;
  const steadySeconds = (lastRow - firstRow) / 1000;
  return {
    racer,
    rows: records,
    fromStartSeconds,
    steadySeconds,
    fromStartRowsPerSecond: records / fromStartSeconds,
    steadyRowsPerSecond: records / steadySeconds,
    cpuPer1k: { racer: per1k(racerCpu), broker: per1k(cpuOf(brokers) - before.broker), mariadb: per1k(cpuOf(mariadb) - before.mariadb) },
    peakRssMb,
  };
}

function meanOf(runs: RaceRun[]): Omit<RaceRun, 'racer'> {
  const mean = (of: (run: RaceRun) => number) => runs.reduce((sum, run) => sum + of(run), 0) / runs.length;
  return {
    rows: runs[0]!.rows,
    fromStartSeconds: mean((run) => run.fromStartSeconds),
    steadySeconds: mean((run) => run.steadySeconds),
    fromStartRowsPerSecond: mean((run) => run.fromStartRowsPerSecond),
    steadyRowsPerSecond: mean((run) => run.steadyRowsPerSecond),
    cpuPer1k: {
      racer: mean((run) => run.cpuPer1k.racer),
      broker: mean((run) => run.cpuPer1k.broker),
      mariadb: mean((run) => run.cpuPer1k.mariadb),
    },
    peakRssMb: Math.max(...runs.map((run) => run.peakRssMb)),
  };
}

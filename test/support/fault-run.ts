import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PermanentError } from '../../src/errors.ts';
import { originHeaders } from '../../src/records/record-origin.ts';
import type { PipelineSpecInput } from '../../src/pipeline/spec.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { stageLag } from '../../src/status/lag.ts';
import type { StageName } from '../../src/pipeline/topology.ts';
import { expect } from 'vitest';
import { aggregateMismatches, aggregatesIn, groupedModel } from './aggregates.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type ReadRecord, type TestPipeline } from './pipeline.ts';
import { startTestStage, type Exit, type StageProcess } from './stage-process.ts';

const stackScript = fileURLToPath(new URL('../../scripts/stack', import.meta.url));
const countsFile = fileURLToPath(new URL('../../test-results/fault-counts.jsonl', import.meta.url));
const stages: StageName[] = ['extract', 'load', 'transform'];

/** Stops, kills (SIGKILL) or starts one part of the local stack (mariadb, registry, broker-N). */
export async function stack(command: 'stop' | 'kill' | 'start', part: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  await promisify(execFile)(stackScript, [command, part], { env: { ...process.env, ...env } });
}

export interface FaultContext {
  t: TestPipeline;
  members: Map<StageName, StageProcess[]>;
  /** Starts one more member of a stage and waits until it has joined. */
  addMember(stage: StageName): Promise<StageProcess>;
  /** Seconds since the steady load began. */
  elapsed(): number;
  /** Sleeps until `seconds` after the steady load began. */
  at(seconds: number): Promise<void>;
  /**
   * At 3, 9 and 15 s of the load, sends `signal` to a running member of
   * extract, then load, then transform, and starts a member in its place.
   */
  replaceEachStage(signal: NodeJS.Signals): Promise<Array<{ stage: StageName; exit: Exit }>>;
}

export interface FaultCounts {
  scenario: string;
  produced: number;
  raw: number;
  extracted: number;
  loaded: number;
  staged: number;
  modeled: number;
  deadLettered: number;
  duplicates: number;
  /** Aggregate rows that differ from GROUP BY over fct_pageviews, the model table they are declared from. */
  aggregateMismatches: number;
  /** The first few of them, to say what differed. */
  aggregateDifferences: string[];
  /** For the first few events found twice in a topic: where each copy is (topic partition:offset, and the copy's origin headers). */
  duplicateCopies: string[];
  /** For the first few events of the raw topic missing from a later topic: which topic, and where the event is in the raw topic. */
  missingEvents: string[];
  seconds: number;
}

export interface FaultRunOptions {
  scenario: string;
  events: number;
  rate: number;
  kafkaBrokers?: string[];
  spec?: Partial<PipelineSpecInput>;
  /** The scenario, played while the load runs; the run counts once it returns and the load is done. */
  faults: (context: FaultContext) => Promise<void>;
  /** Looks at the finished run (its topics and tables) before they are deleted. */
  inspect?: (t: TestPipeline) => Promise<void>;
}

/**
 * The `pageviews` pipeline as three stage processes under a steady produce
 * load, a fault scenario played against it, and the count at the end: every
 * record in each topic and table, dead letters, and duplicates (events whose
 * id appears more than once in a topic).
 */
export async function faultRun(options: FaultRunOptions): Promise<FaultCounts & { t: TestPipeline }> {
  const t = await createTestPipeline({ consumer: { sessionTimeoutMs: 10_000 }, ...options.spec }, options.kafkaBrokers);
  const members = new Map<StageName, StageProcess[]>(stages.map((stage) => [stage, []]));
  let started = 0;
  const context: FaultContext = {
    t,
    members,
    async addMember(stage) {
      const list = members.get(stage)!;
      const member = startTestStage(stage, t.specPath, t.endpoints, `${t.pipeline.name}-${stage}-${list.length + 1}`);
      list.push(member);
      await member.joined();
      return member;
    },
    elapsed: () => (Date.now() - started) / 1000,
    at: async (seconds) => sleep(Math.max(0, started + seconds * 1000 - Date.now())),
    async replaceEachStage(signal) {
      const exits: Array<{ stage: StageName; exit: Exit }> = [];
      for (const [i, stage] of stages.entries()) {
        await context.at(3 + i * 6);
        exits.push({
          stage,
          exit: await members
            .get(stage)!
            .find((member) => member.running)!
            .signal(signal),
        });
        await context.addMember(stage);
      }
      return exits;
    },
  };
  let membersStopped = false;
  /** SIGTERM to every running member, then the pipeline removed; returns the members that had to be killed. */
  const stopMembers = async () => {
    membersStopped = true;
    const running = [...members.values()].flat().filter((member) => member.running);
    const exits = await Promise.all(running.map((member) => member.stopWithin(DRAIN_LIMIT_MS)));
    await t.cleanup();
    return running.filter((_, i) => exits[i] === 'killed');
  };
  try {
    await Promise.all(stages.map((stage) => context.addMember(stage)));
    started = Date.now();
    const producing = produceEvents(t.pipeline, generatedEvents(t.pipeline.source.generatorPath!, options.events), t.connections, {
      rate: options.rate,
    });
    // The load is awaited after the scenario; until then its failure is kept, not left unhandled.
    const produced = producing.then(
      () => undefined,
      (error: unknown) => error,
    );
    await options.faults(context);
    const produceFailure = await produced;
    if (produceFailure !== undefined) throw produceFailure;

    const admin = await openClusterAdmin(t.connections.kafka);
    await waitFor(
      'every stage to catch up',
      async () => {
        for (const stage of stages) if ((await stageLag(admin, t.pipeline, stage)).lag > 0) return false;
        return true;
      },
      240_000,
    );
    await admin.close();

    const counts = await countPipeline(t, options.scenario, options.events, context.elapsed());
    mkdirSync(dirname(countsFile), { recursive: true });
    appendFileSync(countsFile, `${JSON.stringify(counts)}\n`);
    await options.inspect?.(t);
    const stuck = await stopMembers();
    // A member that does not drain on SIGTERM is a defect of its own (it
    // once spun on a kafkajs loop after a broker left); it fails the run.
    if (stuck.length > 0) throw new Error(`member(s) did not exit within ${DRAIN_LIMIT_MS} ms of SIGTERM: ${stuck.map((m) => m.logFile).join(', ')}`);
    return { ...counts, t };
  } catch (error) {
    // The run failed already: stop what is left (a member that does not drain is killed), and report the first failure.
    if (!membersStopped) await stopMembers();
    throw error;
  }
}

/** The stage's grace period (20 s) and a margin. */
const DRAIN_LIMIT_MS = 35_000;

/** Every record of the pipeline's topics and tables counted, duplicates and the aggregates' differences from GROUP BY over the model table found. */
export async function countPipeline(
  t: Pick<TestPipeline, 'connections' | 'pipeline' | 'db'>,
  scenario: string,
  produced: number,
  seconds: number,
): Promise<FaultCounts> {
  const { kafka, registry } = t.connections;
  const eventsOf = async (topic: string) => {
    const messages = await readTopic(kafka, topic);
    // Poison in the raw topic has no event id: each counts as a record of its own.
    return Promise.all(
      messages.map(async (m, i) => {
        const at = `${topic}[${m.partition}]@${m.offset}${originOf(m)}`;
        try {
          return { ...((await registry.decodeAvro(m.value!)) as { eventId: string }), at };
        } catch (error) {
          if (!(error instanceof PermanentError)) throw error;
          return { eventId: `undecodable #${i}`, at };
        }
      }),
    );
  };
  const duplicateCopies: string[] = [];
  const rawEvents = await eventsOf(t.pipeline.topics.raw);
  const raw = { records: rawEvents.length, distinct: new Set(rawEvents.map((event) => event.eventId)).size };
  const missingEvents: string[] = [];
  const eventIds = async (topic: string) => {
    const events = await eventsOf(topic);
    const copies = new Map<string, string[]>();
    for (const { eventId, at } of events) copies.set(eventId, [...(copies.get(eventId) ?? []), at]);
    for (const [eventId, where] of copies)
      if (where.length > 1 && duplicateCopies.length < 10) duplicateCopies.push(`${eventId}: ${where.join(', ')}`);
    for (const { eventId, at } of rawEvents)
      if (!copies.has(eventId) && !eventId.startsWith('undecodable') && missingEvents.length < 10)
        missingEvents.push(`${eventId} not in ${topic}: ${at}`);
    return { records: events.length, distinct: copies.size };
  };
  const differences = aggregateMismatches(await groupedModel(t.db), await aggregatesIn(t.db));
  const extracted = await eventIds(t.pipeline.topics.extracted);
  const loaded = await eventIds(t.pipeline.topics.loaded);
  return {
    scenario,
    produced,
    raw: raw.records,
    extracted: extracted.records,
    loaded: loaded.records,
    staged: await countRows(t.db, 'stg_pageviews'),
    modeled: await countRows(t.db, 'fct_pageviews'),
    deadLettered: (await readTopic(kafka, t.pipeline.topics.dlq)).length,
    duplicates: raw.records - raw.distinct + (extracted.records - extracted.distinct) + (loaded.records - loaded.distinct),
    aggregateMismatches: differences.length,
    aggregateDifferences: differences.slice(0, 5),
    duplicateCopies,
    missingEvents,
    seconds: Math.round(seconds),
  };
}

/** A record's origin headers (`kelt.origin.*`), when it has them, for telling copies apart. */
function originOf(message: ReadRecord): string {
  const header = (name: string) => message.headers?.[name]?.toString();
  const partition = header(originHeaders.partition);
  return partition === undefined ? '' : ` (from ${partition}@${header(originHeaders.offset)})`;
}

/** Every event once in every topic and table and in the aggregates, nothing dead-lettered, no duplicates. */
export function expectExactlyOnce(counts: FaultCounts, events: number): void {
  expect(counts).toMatchObject({
    produced: events,
    extracted: events,
    loaded: events,
    staged: events,
    modeled: events,
    deadLettered: 0,
    duplicates: 0,
    aggregateMismatches: 0,
  });
}

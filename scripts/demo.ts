/**
 * `npm run demo`: the pageviews pipeline end to end on the local stack.
 * Brings the stack up, migrates, starts the three stages as processes,
 * produces sample pageviews, waits until every stage has caught up, prints a
 * summary and stops the stages it started.
 *
 *   npm run demo [-- --events 20000]
 */
import { replayTransform } from '../src/replay/replay-command.ts';
import { openClusterAdmin } from '../src/kafka/cluster-admin.ts';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { migrate } from '../src/migrate/migrate.ts';
import { loadPipeline } from '../src/pipeline/spec.ts';
import { generatedEvents } from '../src/produce/event-source.ts';
import { produceEvents } from '../src/produce/produce.ts';
import { connectTo } from '../src/runtime/connections.ts';
import { stageLag } from '../src/status/lag.ts';
import { stageNames, type StageName } from '../src/pipeline/topology.ts';
import { postUntilAccepted } from './collector-client.ts';
import { StageProcess } from './stage-process.ts';
import { localStack } from './stack-script.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const specPath = `${root}schemas/pageviews.pipeline.yaml`;
const stages: readonly StageName[] = stageNames;
const { values: args } = parseArgs({
  options: { events: { type: 'string', default: '20000' }, 'via-collector': { type: 'boolean', default: false } },
});
const events = Number(args.events);
if (!Number.isInteger(events) || events <= 0) throw new Error('--events must be a positive integer');

function say(line: string): void {
  process.stdout.write(`demo: ${line}\n`);
}

const endpoints = await localStack();
const pipeline = loadPipeline(specPath);
const connections = connectTo(endpoints, 'warn', 'demo', { pipeline: pipeline.name });
const mysql = connections.mysql();
const migrated = await migrate(pipeline, { ...connections, mysql });
say(`migrated pipeline ${pipeline.name}: topics ${Object.values(pipeline.topics).join(', ')}`);
// The demo's stack keeps its data between runs: aggregates a kelt from before views counted are rebuilt from the model table.
if (migrated.tableChanges.some((change) => change.includes('before aggregates were views'))) {
  await replayTransform(pipeline, connections, undefined, { run: false, say });
}

const logDir = `${root}.stack/demo`;
mkdirSync(logDir, { recursive: true });
// Each stage serves /metrics, /healthz and /readyz on a port of its own.
const httpPorts = { extract: 9464, load: 9465, transform: 9466 } satisfies Record<StageName, number>;
const members = new Map<StageName, StageProcess>(
  stages.map((stage) => [
    stage,
    new StageProcess(stage, specPath, endpoints, { logFile: `${logDir}/${stage}.log`, env: { KELT_HTTP_PORT: String(httpPorts[stage]) } }),
  ]),
);
const stopStages = () => Promise.all([...members.values()].filter((member) => member.running).map((member) => member.signal('SIGTERM')));
process.on('exit', () => void stopStages());
say(`started ${stages.join(', ')} (logs in .stack/demo/; metrics on ${stages.map((s) => `http://127.0.0.1:${httpPorts[s]}/metrics`).join(', ')})`);

const admin = await openClusterAdmin(connections.kafka);
const before = Object.fromEntries(
  await Promise.all(stages.map(async (stage) => [stage, (await stageLag(admin, pipeline, stage)).consumed] as const)),
) as Record<StageName, number>;

const started = performance.now();
// A sequence range of its own per run (the generator derives event ids from it), so reruns add rows.
const seq = Date.now() * 100;
if (args['via-collector']) {
  // As a website's beacons would arrive: over HTTP, through kelt collect.
  const collector = new StageProcess('collect', specPath, endpoints, { logFile: `${logDir}/collect.log`, env: { KELT_HTTP_PORT: '9467' } });
  await collector.httpPort();
  const generated: Array<Record<string, unknown>> = [];
  for await (const event of generatedEvents(pipeline.source.generatorPath!, events, seq)) generated.push(event);
  await postUntilAccepted(generated, (event) => String(event.eventId), { url: 'http://127.0.0.1:9467/events', concurrency: 4, batchSize: 500 });
  await collector.signal('SIGTERM');
  say(`posted ${events} pageviews to kelt collect (http://127.0.0.1:9467/events) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} else {
  await produceEvents(pipeline, generatedEvents(pipeline.source.generatorPath!, events, seq), connections);
  say(`produced ${events} pageviews in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const caughtUp = new Map<StageName, number>();
const deadline = Date.now() + 10 * 60_000;
while (caughtUp.size < stages.length) {
  for (const [stage, member] of members) {
    if (!member.running) throw new Error(`the ${stage} stage exited; see .stack/demo/${stage}.log`);
  }
  // In pipeline order: once extract has no lag, everything it will produce is in its output topic.
  for (const stage of stages) {
    if (caughtUp.has(stage)) continue;
    const lag = await stageLag(admin, pipeline, stage);
    if (lag.lag > 0 || lag.consumed - before[stage] < events) break;
    caughtUp.set(stage, (performance.now() - started) / 1000);
  }
  if (Date.now() > deadline) throw new Error('the pipeline did not catch up within 10 minutes');
  await sleep(200);
}
await admin.close();

const count = async (table: string) => {
  const [rows] = await mysql.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number((rows as Array<{ n: number }>)[0]!.n);
};
say('summary');
for (const table of [pipeline.staging.table, ...pipeline.transform.tables.map((t) => t.name), ...pipeline.transform.aggregates.map((a) => a.name)]) {
  say(`  ${table.padEnd(24)} ${(await count(table)).toLocaleString('en')} rows`);
}
for (const stage of stages) {
  const seconds = caughtUp.get(stage)!;
  say(
    `  ${stage.padEnd(16)} ${events} records, caught up ${seconds.toFixed(1)} s after the first event: ${Math.round(events / seconds).toLocaleString('en')} records/s`,
  );
}
const [sample] = await mysql.query(
  `SELECT event_id, user_id, url_normalized, utm_campaign, browser_name, os_name, device_type, is_bot, ip_anonymized
   FROM fct_pageviews WHERE event_id LIKE ? ORDER BY event_id LIMIT 5`,
  [`pv-${seq.toString(36).slice(0, 4)}%`],
);
say('  a few transformed rows (fct_pageviews):');
console.table(sample);
// The aggregates over everything produced so far (the demo's stack keeps its data between runs).
const [hourly] = await mysql.query(
  `SELECT DATE_FORMAT(hour, '%Y-%m-%d %H:00') AS hour, url_host, url_path, views, visitors
   FROM agg_pageviews_hourly ORDER BY hour DESC, views DESC LIMIT 8`,
);
say('  page views per host, path and hour (agg_pageviews_hourly, busiest of the latest hour first):');
console.table(hourly);
const [daily] = await mysql.query(
  "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, active_users, pageviews FROM agg_daily_active_users ORDER BY day DESC LIMIT 7",
);
say('  daily active users (agg_daily_active_users):');
console.table(daily);
await mysql.end();

await stopStages();
say(`stopped the stages; the stack keeps running ('scripts/stack down' stops it)`);

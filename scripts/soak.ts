/**
 * npm run soak -- --runs N [--only <fault>[,<fault>…]]
 *
 * Runs the fault tests (test/faults, each a real stack under load with a
 * fault played against it) N times in a row and prints one line of counts
 * per fault per run, from the counts each run appends to
 * test-results/fault-counts.jsonl. A guarantee holds when every line shows
 * 0 duplicates and 0 lost; one bad run in N is a failure. Exits 1 if any run
 * failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FaultCounts } from '../test/support/fault-run.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const faultsDir = `${root}test/faults`;
const countsFile = `${root}test-results/fault-counts.jsonl`;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, only: { type: 'string' } } });
const runs = Number(values.runs);
const known = readdirSync(faultsDir)
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => file.replace(/\.test\.ts$/, ''));
const chosen = values.only === undefined ? known : values.only.split(',');
const unknown = chosen.filter((fault) => !known.includes(fault));
if (!Number.isInteger(runs) || runs < 1 || unknown.length > 0) {
  console.error(
    `usage: npm run soak -- --runs N [--only ${known.join('|')}]${unknown.length > 0 ? `\nunknown fault(s): ${unknown.join(', ')}` : ''}`,
  );
  process.exit(2);
}

const readCounts = (from: number): FaultCounts[] =>
  existsSync(countsFile)
    ? readFileSync(countsFile)
        .subarray(from)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as FaultCounts)
    : [];

/** Records lost: produced events missing from a topic or table (dead letters are not loss). */
const lostOf = (c: FaultCounts) =>
  Math.max(0, c.produced - c.extracted) +
  Math.max(0, c.produced - c.loaded) +
  Math.max(0, c.produced - c.staged) +
  Math.max(0, c.produced - c.modeled);

let failedRuns = 0;
for (let run = 1; run <= runs; run++) {
  const before = existsSync(countsFile) ? statSync(countsFile).size : 0;
  const started = Date.now();
  const result = spawnSync('vitest', ['run', '--project', 'faults', ...chosen.map((fault) => `test/faults/${fault}.test.ts`)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const counts = readCounts(before);
  for (const c of counts) {
    console.log(
      `run ${run}/${runs}  ${c.scenario.padEnd(58)} produced ${c.produced}  raw ${c.raw}  extracted ${c.extracted}  loaded ${c.loaded}  ` +
        `staged ${c.staged}  modeled ${c.modeled}  dlq ${c.deadLettered}  duplicates ${c.duplicates}  lost ${lostOf(c)}  ${c.seconds}s`,
    );
  }
  const passed = result.status === 0;
  if (!passed) {
    failedRuns++;
    const summary = `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => /FAIL|Error|expected/.test(line))
      .slice(0, 12);
    console.log(
      `run ${run}/${runs}  FAILED (vitest exit ${result.status}) after ${Math.round((Date.now() - started) / 1000)}s\n  ${summary.join('\n  ')}`,
    );
  }
}
console.log(`soak: ${runs - failedRuns} of ${runs} run(s) passed (${chosen.join(', ')})`);
process.exit(failedRuns === 0 ? 0 : 1);

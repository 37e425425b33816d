import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

export const parts = ['stages', 'peer', 'end-to-end', 'latency', 'collector'] as const;
export type BenchPart = (typeof parts)[number];

function partList(value: string): BenchPart[] {
  const list = value.split(',').map((part) => part.trim());
  const unknown = list.filter((part) => !(parts as readonly string[]).includes(part));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown part(s) ${unknown.join(', ')}; the parts are ${parts.join(', ')}`);
  return list as BenchPart[];
}

/** `npm run bench`'s command line. */
export function benchOptions() {
  return new Command('bench')
    .description('benchmark kelt against the running local stack (scripts/stack up) and write docs/benchmarks/')
    .option('-n, --events <count>', 'pageviews in the pre-filled topic', positiveInteger, 200_000)
    .option('--naive-events <count>', 'records the naive baseline handles per stage', positiveInteger, 10_000)
    .option('--step-seconds <seconds>', 'length of each end-to-end load step', positiveInteger, 20)
    .option('--race-rounds <count>', 'kelt / Redpanda Connect pairs in the race (ABAB…)', positiveInteger, 2)
    .option('--only <parts>', `run only these parts (${parts.join(', ')}); prints their figures, writes no report`, partList)
    .option('--out <dir>', 'where the report goes', fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url)))
    .parse()
    .opts<{ events: number; naiveEvents: number; stepSeconds: number; raceRounds: number; only?: BenchPart[]; out: string }>();
}

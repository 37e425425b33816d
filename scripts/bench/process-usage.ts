import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) and peak RSS (VmHWM) of a running process, from /proc. */
export function processUsage(pid: number): { cpuSeconds: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, peakRssMb: Number(hwm?.[1] ?? 0) / 1024 };
}

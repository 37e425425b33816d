import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { envOf, type Endpoints } from '../src/config/endpoints.ts';
import type { StageName } from '../src/pipeline/topology.ts';

const kelt = fileURLToPath(new URL('./kelt', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Seconds from `signal()` to the exit (0 when it was not signalled). */
  seconds: number;
}

export interface StageProcessOptions {
  /** Where its JSON log goes (appended). */
  logFile: string;
  graceSeconds?: number;
  /** More environment, over the endpoints' (e.g. KELT_HTTP_PORT, KELT_METRICS). */
  env?: Record<string, string>;
  /** More arguments after the pipeline and grace (the collector's options). */
  args?: string[];
}

/** What a kelt process runs: a stage, or the HTTP collector in front of them. */
export type KeltProcessCommand = StageName | 'collect';

/**
 * A stage run as its own process (`kelt <stage>`), as it runs in production,
 * for the demo, the benchmark and the fault tests. It learns what the stage
 * is doing from its log: when it joined its group and which HTTP port it took.
 */
export class StageProcess {
  readonly stage: KeltProcessCommand;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<Exit>;
  private signalledAt = 0;
  /** Where this process's part of the (appended) log file starts. */
  private readonly logStart: number;

  constructor(
    stage: KeltProcessCommand,
    specPath: string,
    endpoints: Endpoints,
    { logFile, graceSeconds = 20, env = {}, args = [] }: StageProcessOptions,
  ) {
    this.stage = stage;
    this.logFile = logFile;
    mkdirSync(dirname(logFile), { recursive: true });
    this.logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    const log = openSync(logFile, 'a');
    this.child = spawn(kelt, [stage, '--pipeline', specPath, '--grace', String(graceSeconds), ...args], {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...envOf(endpoints), KELT_LOG_LEVEL: process.env.KELT_TEST_LOG_LEVEL ?? 'info', KELT_HTTP_PORT: '0', ...env },
    });
    // A stage outlives no run that started it (a test that timed out, a bench interrupted).
    const orphanGuard = () => this.child.kill('SIGKILL');
    process.once('exit', orphanGuard);
    this.child.once('exit', () => process.off('exit', orphanGuard));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) =>
        resolve({ code, signal, seconds: this.signalledAt === 0 ? 0 : (Date.now() - this.signalledAt) / 1000 }),
      ),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the member has joined its group (it says so in its log). */
  async joined(timeoutMs = 90_000): Promise<void> {
    await this.until('join its group', () => this.log().includes('"joined the group"'), timeoutMs);
  }

  /** The port of the stage's /metrics, /healthz and /readyz (from its log, once it serves them). */
  async httpPort(timeoutMs = 90_000): Promise<number> {
    let port = 0;
    await this.until(
      'serve HTTP',
      () => {
        const line = this.log()
          .split('\n')
          .find((entry) => entry.includes('serving /metrics, /healthz and /readyz"'));
        if (line !== undefined) port = (JSON.parse(line) as { port: number }).port;
        return line !== undefined;
      },
      timeoutMs,
    );
    return port;
  }

  signal(signal: NodeJS.Signals): Promise<Exit> {
    this.signalledAt = Date.now();
    this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `limitMs`; says which ended it. */
  async stopWithin(limitMs: number): Promise<'drained' | 'killed'> {
    const stopped = this.signal('SIGTERM');
    const late = Symbol('late');
    const timer = new AbortController();
    const outcome = await Promise.race([stopped, sleep(limitMs, late, { signal: timer.signal })]);
    timer.abort();
    if (outcome !== late) return 'drained';
    this.child.kill('SIGKILL');
    await stopped;
    return 'killed';
  }

  exit(): Promise<Exit> {
    return this.exited;
  }

  /** The end of its log, for an error message. */
  logTail(chars = 2_000): string {
    return this.log().slice(-chars);
  }

  private log(): string {
    return readFileSync(this.logFile).subarray(this.logStart).toString('utf8');
  }

  private async until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (!this.running) throw new Error(`${this.stage} exited before it could ${what}; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`${this.stage} did not ${what} within ${timeoutMs} ms; see ${this.logFile}`);
      await sleep(100);
    }
  }
}

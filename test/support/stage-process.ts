import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envOf, type Endpoints } from '../../src/config/env.ts';
import type { StageName } from '../../src/stages/stage-runner.ts';
import { waitFor } from './pipeline.ts';

const kelt = fileURLToPath(new URL('../../scripts/kelt', import.meta.url));
const logDir = fileURLToPath(new URL('../../test-results/stage-logs/', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
}

/** A stage run as its own process (`kelt <stage>`), as it runs in production; its log is kept under test-results/. */
export class StageProcess {
  readonly stage: StageName;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<Exit>;
  private signalledAt = 0;
  /** Where this process's part of the (appended) log file starts. */
  private readonly logStart: number;

  constructor(stage: StageName, specPath: string, endpoints: Endpoints, name: string, graceSeconds = 20) {
    this.stage = stage;
    mkdirSync(logDir, { recursive: true });
    this.logFile = `${logDir}${name}.log`;
    this.logStart = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const log = openSync(this.logFile, 'a');
    this.child = spawn(kelt, [stage, '--pipeline', specPath, '--grace', String(graceSeconds)], {
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        ...envOf(endpoints),
        KELT_LOG_LEVEL: 'info',
        // Stages of a test share the machine: each takes a free port and logs it.
        KELT_HTTP_PORT: '0',
        KELT_LAG_INTERVAL_SECONDS: '2',
      },
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) =>
        resolve({ code, signal, seconds: this.signalledAt === 0 ? 0 : (Date.now() - this.signalledAt) / 1000 }),
      ),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the member has joined its group (it says so in its log). */
  async joined(timeoutMs = 90_000): Promise<void> {
    await waitFor(`${this.stage} to join its group (${this.logFile})`, async () => {
      if (!this.running) throw new Error(`${this.stage} exited early; see ${this.logFile}`);
      return this.log().includes('"joined the group"');
    }, timeoutMs);
  }

  /** The port of the stage's /metrics, /healthz and /readyz (from its log, once it serves them). */
  async httpPort(timeoutMs = 90_000): Promise<number> {
    let port = 0;
    await waitFor(`${this.stage} to serve HTTP (${this.logFile})`, async () => {
      if (!this.running) throw new Error(`${this.stage} exited early; see ${this.logFile}`);
      const line = this.log()
        .split('\n')
        .find((entry) => entry.includes('"serving /metrics, /healthz and /readyz"'));
      if (line === undefined) return false;
      port = (JSON.parse(line) as { port: number }).port;
      return true;
    }, timeoutMs);
    return port;
  }

  private log(): string {
    return readFileSync(this.logFile).subarray(this.logStart).toString('utf8');
  }

  signal(signal: NodeJS.Signals): Promise<Exit> {
    this.signalledAt = Date.now();
    this.child.kill(signal);
    return this.exited;
  }

  exit(): Promise<Exit> {
    return this.exited;
  }
}

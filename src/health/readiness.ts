import { PeriodicTask } from '../runtime/periodic-task.ts';

/** One thing a stage needs to reach to do its work. */
export interface DependencyCheck {
  name: string;
  /** Resolves when the dependency answers; rejects with why not. */
  check(): Promise<unknown>;
}

const CHECK_TIMEOUT_MS = 3_000;

function withTimeout(name: string, work: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface ReadinessState {
  ready: boolean;
  reasons: string[];
}

/** The stage's own side of readiness (its runner's fault tracker). */
export type StageReadiness = Readonly<ReadinessState>;

/**
 * Whether a stage is ready: its consumer has joined the group and no batch is
 * failing (the runner's FaultTracker, live), and Kafka, the registry and MySQL answered
 * the last round of checks. The checks run every `intervalMs` in the
 * background, so probes and scrapes never wait on a dependency and never
 * multiply the load on one.
 */
export class Readiness {
  private readonly health: StageReadiness;
  private readonly checks: readonly DependencyCheck[];
  private failures = new Map<string, string>();
  private readonly task = new PeriodicTask(() => this.checkAll());
  private checkedOnce = false;

  constructor(health: StageReadiness, checks: readonly DependencyCheck[]) {
    this.health = health;
    this.checks = checks;
  }

  start(intervalMs: number): void {
    this.task.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  state(): ReadinessState {
    const reasons = [...(this.health.ready ? [] : this.health.reasons), ...this.failures.values()];
    if (!this.checkedOnce) reasons.push('dependencies not checked yet');
    return { ready: reasons.length === 0, reasons };
  }

  private async checkAll(): Promise<void> {
    const outcomes = await Promise.allSettled(this.checks.map(({ name, check }) => withTimeout(name, check())));
    const failures = new Map<string, string>();
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        const name = this.checks[i]!.name;
        failures.set(name, `${name} unreachable: ${(outcome.reason as Error).message ?? String(outcome.reason)}`);
      }
    });
    this.failures = failures;
    this.checkedOnce = true;
  }
}

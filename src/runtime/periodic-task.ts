/**
 * Runs an async job now and then every `intervalMs`, never two at once (a
 * run still going when the next is due is not doubled); `stop()` waits for
 * the run in flight. The timer does not keep the process alive.
 */
export class PeriodicTask {
  private readonly job: () => Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(job: () => Promise<void>) {
    this.job = job;
  }

  start(intervalMs: number): void {
    const tick = () => {
      this.running ??= this.job().finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

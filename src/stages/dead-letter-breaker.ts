import { DeadLetterFloodError } from '../errors.ts';
import type { BreakerSettings } from '../pipeline/spec.ts';

/**
 * A circuit breaker on dead letters. When most records fail at once, the
 * cause is rarely the records: a wrong registry, a dropped table, a bad
 * deploy of the transform. Emptying the topic into the DLQ then would turn
 * one mistake into a re-drive of everything. Instead, a batch that would
 * bring the share of dead letters in the window to `ratio` (over at least
 * `minRecords` records) is refused before it commits, as a transient
 * failure: the stage pauses, reports not ready with the reason, retries
 * with backoff, and the records wait in Kafka until the cause is fixed.
 */
export class DeadLetterBreaker {
  private readonly settings: BreakerSettings;
  private readonly now: () => number;
  private readonly window: Array<{ at: number; records: number; dead: number }> = [];

  constructor(settings: BreakerSettings, now: () => number = Date.now) {
    this.settings = settings;
    this.now = now;
  }

  /**
   * A batch of `records` records is about to commit `dead` dead letters:
   * throws DeadLetterFloodError if that would open the breaker, and else
   * counts the batch in at once, so that batches of other partitions checked
   * meanwhile see it (a refused batch is not counted; one that fails later
   * for another reason and runs again counts twice, which moves the share
   * little).
   */
  admit(records: number, dead: number, reasons: readonly string[]): void {
    const { records: seen, dead: failed } = this.totals();
    const total = seen + records;
    const share = (failed + dead) / total;
    if (dead > 0 && total >= this.settings.minRecords && share >= this.settings.ratio) {
      const why = [...new Set(reasons)].join(', ');
      throw new DeadLetterFloodError(
        `${failed + dead} of the last ${total} records would be dead-lettered (${why}): more than ${Math.round(this.settings.ratio * 100)}%, so they wait in Kafka; fix the cause (registry, tables, transform) and the stage goes on`,
      );
    }
    this.window.push({ at: this.now(), records, dead });
  }

  private totals(): { records: number; dead: number } {
    const since = this.now() - this.settings.windowMs;
    while (this.window.length > 0 && this.window[0]!.at < since) this.window.shift();
    return this.window.reduce((sum, batch) => ({ records: sum.records + batch.records, dead: sum.dead + batch.dead }), { records: 0, dead: 0 });
  }
}

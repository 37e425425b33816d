import type { LoggedDeadLetter } from '../../src/mysql/dead-letter-log.ts';
import type { MySqlPool } from '../../src/mysql/pool.ts';
import type { Queryable } from '../../src/mysql/queryable.ts';
import type { StageDeadLetterLog, StagePositions } from '../../src/stages/mysql-stage-batch.ts';

/**
 * A pool whose one connection records the statements of its transactions
 * (committed ones only count), and the values each was given.
 */
export function fakePool() {
  const committed: string[] = [];
  const committedValues: unknown[] = [];
  let pending: Array<[string, unknown]> = [];
  const connection = {
    query: async (statement: string | { sql: string; values?: unknown }, values?: unknown) => {
      const sql = typeof statement === 'string' ? statement : statement.sql;
      // Reads in a batch (a model table's rows before it is written) find nothing stored.
      if (sql.startsWith('SELECT')) return [[]];
      if (sql.startsWith('ROLLBACK TO SAVEPOINT'))
        pending = pending.slice(
          0,
          pending.findLastIndex(([done]) => done.startsWith('SAVEPOINT')),
        );
      else pending.push([sql, values]);
      return [{}];
    },
    beginTransaction: async () => void (pending = []),
    commit: async () => {
      for (const [sql, values] of pending) {
        if (sql.includes('SAVEPOINT')) continue;
        committed.push(sql);
        committedValues.push(values);
      }
    },
    rollback: async () => void (pending = []),
    release: () => undefined,
  };
  // Reads outside a transaction (positions, origins) find nothing stored.
  const pool = { getConnection: async () => connection, query: async () => [[]], end: async () => undefined };
  return { pool: pool as unknown as MySqlPool, committed, committedValues, connection };
}

/** MySQL positions in memory, moved only by a committed batch (`advanced`). */
export class MemoryPositions implements StagePositions {
  readonly stored = new Map<number, bigint>();
  async assigned(): Promise<void> {}
  async of(partition: number): Promise<bigint | undefined> {
    return this.stored.get(partition);
  }
  async advance(connection: Queryable, partition: number, to: string): Promise<void> {
    await connection.query(`position ${partition} to ${to}`);
  }
  advanced(partition: number, to: string): void {
    this.stored.set(partition, BigInt(to));
  }
}

export class MemoryLetterLog implements StageDeadLetterLog {
  readonly letters = new Map<string, LoggedDeadLetter>();
  async record(connection: Queryable, _partition: number, letters: readonly LoggedDeadLetter[]): Promise<void> {
    await connection.query(`log ${letters.length} letters`);
    for (const letter of letters) this.letters.set(letter.offset, letter);
  }
  async between(): Promise<Map<string, LoggedDeadLetter>> {
    return new Map(this.letters);
  }
}

import { MySqlAggregateTable } from '../../mysql/aggregate-table.ts';
import type { MySqlPool } from '../../mysql/pool.ts';
import type { Queryable } from '../../mysql/queryable.ts';
import { readReplayFloors, type ReplayFloors } from '../../mysql/replay-floors.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Aggregate } from '../../pipeline/aggregates.ts';
import { aggregateBatch, contributionOf, type Contribution } from './batch-aggregation.ts';

/** A record's contributions, per aggregate (in the pipeline's order). */
export type RecordContributions = Contribution[][];

/**
 * The transform's aggregates: what each record contributes (computed with
 * its rows, so a record whose rows cannot be aggregated is dead-lettered
 * like any other bad row), and the batch's increments, written in the
 * batch's MySQL transaction. Records a replay from a timestamp re-reads
 * (below the floor's offset) add only to the windows it rebuilt.
 */
export interface AggregateIncrementsOptions {
  aggregates: readonly Aggregate[];
  /** The pipeline's model tables, which the aggregates count rows of. */
  modelTables: readonly MySqlTable[];
  /** Reads the replay floors. */
  pool: Pick<MySqlPool, 'query'>;
  groupId: string;
}

export class AggregateIncrements {
  readonly tables: readonly MySqlAggregateTable[];
  private readonly sources: Array<{ index: number; columnIndex: (column: string) => number }>;
  private readonly pool: Pick<MySqlPool, 'query'>;
  private readonly groupId: string;
  private floors: ReplayFloors = new Map();

  constructor({ aggregates, modelTables, pool, groupId }: AggregateIncrementsOptions) {
    this.pool = pool;
    this.groupId = groupId;
    this.tables = aggregates.map(
      (aggregate) =>
        new MySqlAggregateTable(
          aggregate,
          modelTables.find((table) => table.name === aggregate.from)!,
        ),
    );
    this.sources = aggregates.map((aggregate) => {
      const index = modelTables.findIndex((table) => table.name === aggregate.from);
      const positions = new Map(modelTables[index]!.columns.map((column, i) => [column.name, i]));
      return { index, columnIndex: (column: string) => positions.get(column)! };
    });
  }

  get enabled(): boolean {
    return this.tables.length > 0;
  }

  /** Reads the replay floors again: a replay runs only while the group has no members, so a new assignment sees the latest. */
  async onAssignment(): Promise<void> {
    if (this.enabled) this.floors = await readReplayFloors(this.pool, this.groupId);
  }

  /** A record's contributions from its rows (per model table, as SQL parameters); throws PermanentError for a row that cannot be aggregated. */
  contributionsOf(rowsPerTable: readonly unknown[][][]): RecordContributions {
    return this.tables.map(({ aggregate }, a) => {
      const { index, columnIndex } = this.sources[a]!;
      return rowsPerTable[index]!.map((row) => contributionOf(aggregate, row, columnIndex));
    });
  }

  /** Writes the increments of a batch's records (those not dead-lettered) of one partition. */
  async apply(
    connection: Queryable,
    partition: number,
    records: ReadonlyArray<{ offset: string; contributions: RecordContributions }>,
    rowsPerStatement: number,
  ): Promise<void> {
    for (const [a, table] of this.tables.entries()) {
      const floor = this.floors.get(table.aggregate.name)?.get(partition);
      const counted = records.flatMap(({ offset, contributions }) =>
        floor !== undefined && BigInt(offset) < floor.untilOffset
          ? contributions[a]!.filter((contribution) => contribution.windowStartMs! >= floor.floorMs)
          : contributions[a]!,
      );
      if (counted.length === 0) continue;
      await table.increment(connection, aggregateBatch(table.aggregate, counted, table.exactSums), rowsPerStatement);
    }
  }
}

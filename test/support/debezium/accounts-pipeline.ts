import { fileURLToPath } from 'node:url';
import type { PipelineSpecInput } from '../../../src/pipeline/spec.ts';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/**
 * The spec of a pipeline over an `accounts` table's Debezium change events:
 * the row as its source schema, staged by id, modeled one to one in
 * fct_accounts (deleted with it), and an aggregate of it per opening date
 * (which updates move rows between).
 */
export function accountsPipeline(partitions: number, rawTopic?: string): Partial<PipelineSpecInput> {
  return {
    partitions,
    source: { format: 'debezium', schema: here('./accounts.avsc'), keyField: 'id' },
    ...(rawTopic === undefined ? {} : { topics: { raw: rawTopic } }),
    staging: { table: 'stg_accounts', primaryKey: ['id'], columns: {} },
    transform: {
      module: here('./accounts-transform.ts'),
      tables: [
        {
          name: 'fct_accounts',
          primaryKey: ['account_id'],
          columns: { account_id: 'int', owner: 'string', balance: 'decimal(12,2)', opened: 'date', updated_at: 'timestamp(6)', visits: 'long' },
        },
      ],
      aggregates: [
        {
          name: 'agg_accounts_by_opened',
          from: 'fct_accounts',
          groupBy: ['opened'],
          measures: { accounts: 'count', visits: 'sum(visits)', owners: 'count_distinct(owner)', most_visits: 'max(visits)' },
        },
      ],
    },
  } as Partial<PipelineSpecInput>;
}

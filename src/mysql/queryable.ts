import type { PoolConnection } from 'mysql2/promise';

/** A connection (inside a transaction) that statements run on. */
export type Queryable = Pick<PoolConnection, 'query'>;

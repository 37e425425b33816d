/** A model table as the spec declares it: what the transform writes. */
export interface ModelTable {
  name: string;
  primaryKey: string[];
  /** Column name → model column type (sql-types.ts: modelColumnType). */
  columns: Record<string, string>;
}

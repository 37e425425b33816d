/**
 * Names a pipeline's tables and columns cannot take. kelt keeps its own
 * state in the pipeline's database (positions, logged dead letters,
 * watermarks, applied origins): a table of a pipeline by one of those names would
 * be written over by both. The test of this module checks the list against
 * the tables `src/mysql/` creates.
 */
export const keltTables: readonly string[] = ['kelt_offsets', 'kelt_dead_letters', 'kelt_watermarks', 'kelt_applied_origins'];

/**
 * Column names a transform's row cannot be read by: every plain object has
 * them (`constructor`, `__proto__`, `toString`…), so a row that does not set
 * one would give the prototype's function instead of nothing.
 */
export const objectPrototypeNames: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** MySQL's longest identifier. */
export const MAX_IDENTIFIER = 64;

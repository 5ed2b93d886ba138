/**
 * The error of a local query the engine refused: in a module of its own, so that commands that
 * only recognise it (`datalake query --aws`, `files`, `report`) do not load DuckDB.
 */

/** A query the engine refused (bad SQL, unknown table, not confined, too slow): its message is one line for the user. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

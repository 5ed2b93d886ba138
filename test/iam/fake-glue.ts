/** An in-memory Glue Data Catalog for the IAM simulations' recorded Iceberg calls. */
import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  GlueClient,
  type Table,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * An in-memory Glue Data Catalog behind aws-sdk-client-mock: Get, Create, Update with VersionId.
 * `conflicts` UpdateTable calls are refused first, as when an optimizer or Athena commits
 * between the read and the swap, so the committer's clean-up of a lost attempt is recorded too.
 */
export function fakeGlue(state: { conflicts: number }) {
  const glue = mockClient(GlueClient);
  const tables = new Map<string, Table>();
  glue.on(GetTableCommand).callsFake((input: { DatabaseName: string; Name: string }) => {
    const t = tables.get(`${input.DatabaseName}.${input.Name}`);
    if (!t) throw new EntityNotFoundException({ message: 'no such table', $metadata: {} });
    return { Table: t };
  });
  glue.on(CreateTableCommand).callsFake((input: { DatabaseName: string; TableInput: Table }) => {
    const key = `${input.DatabaseName}.${input.TableInput.Name}`;
    if (tables.has(key)) throw new AlreadyExistsException({ message: 'exists', $metadata: {} });
    tables.set(key, { ...input.TableInput, DatabaseName: input.DatabaseName, VersionId: '1' });
    return {};
  });
  glue
    .on(UpdateTableCommand)
    .callsFake((input: { DatabaseName: string; VersionId: string; TableInput: Table }) => {
      const key = `${input.DatabaseName}.${input.TableInput.Name}`;
      const t = tables.get(key)!;
      const conflict = (message: string) => new ConcurrentModificationException({ message, $metadata: {} });
      if (state.conflicts > 0) {
        state.conflicts--;
        throw conflict('another commit came first');
      }
      if (t.VersionId !== input.VersionId) throw conflict('moved on');
      tables.set(key, {
        ...input.TableInput,
        DatabaseName: input.DatabaseName,
        VersionId: String(Number(t.VersionId) + 1),
      });
      return {};
    });
  return glue;
}

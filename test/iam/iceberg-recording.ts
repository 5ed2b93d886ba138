/**
 * What the IAM simulations of the Iceberg side share: an in-memory Glue Data Catalog to record
 * the core's calls against, and the IAM requests of recorded S3 and Glue commands.
 */
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
import type { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { LakeResources } from './lake-resources.ts';
import type { S3Caller, S3Command } from './s3-requests.ts';
import type { IamCall } from './simulate.ts';

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

/** The caller of recorded S3 commands whose local bucket `curated` stands for the curated zone. */
export function curatedCaller(
  res: LakeResources,
  who: string,
  principal: string,
  local = 'curated',
): S3Caller {
  return {
    who,
    principal,
    partition: res.partition,
    region: res.region,
    account: res.account,
    bucket: (b) => (b === local ? res.buckets.curated : b),
    keyArn: res.keyArn,
    mayBeTagged: () => false,
    versionedOnAws: () => false,
  };
}

/** A recorded Glue command as the IAM requests Glue authorizes: the catalog, the database, the table. */
export function glueRequests(
  res: LakeResources,
  who: string,
  principal: string,
  command: S3Command,
  database: string,
): IamCall[] {
  const action = `glue:${command.command.replace(/Command$/, '')}`;
  const input = command.input as { Name?: string; TableInput?: { Name?: string } };
  const table = input.Name ?? input.TableInput?.Name;
  const glue = `arn:${res.partition}:glue:${res.region}:${res.account}`;
  return [`${glue}:catalog`, `${glue}:database/${database}`, `${glue}:table/${database}/${table}`].map(
    (resource) => ({
      who: `${who} ${command.command}`,
      principal,
      action,
      resource,
    }),
  );
}

/**
 * Records the S3 commands `client` sends and the Glue commands the in-memory Glue ({@link fakeGlue},
 * `state.conflicts` swaps refused first) receives; `take` returns those since the last take.
 */
export function icebergRecorder(client: S3Client, state = { conflicts: 0 }) {
  let s3: S3Command[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      s3.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordForIam' },
  );
  const glue = fakeGlue(state);
  return {
    glue,
    take(): { s3: S3Command[]; glue: S3Command[] } {
      const out = {
        s3,
        glue: glue.calls().map((c) => ({
          command: c.args[0].constructor.name,
          input: c.args[0].input as Record<string, unknown>,
        })),
      };
      s3 = [];
      glue.resetHistory();
      return out;
    },
  };
}

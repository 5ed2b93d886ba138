/** The layout of a local lake folder: everything the local runtime keeps between runs. */
import { join, resolve } from 'node:path';

/** The default lake folder (git-ignored). */
export const DEFAULT_LAKE_DIR = '.lake';

/** The local zone buckets (on AWS they carry the account and region; here a lake is one folder). */
export const LOCAL_BUCKETS = {
  landing: 'landing',
  raw: 'raw',
  failure: 'failure',
  curated: 'curated',
} as const;

/** The Glue database name of the local catalog. */
export const LOCAL_DATABASE = 'local';

/** Paths inside one lake folder. */
export function lakePaths(dir: string = DEFAULT_LAKE_DIR) {
  const root = resolve(dir);
  return {
    root,
    /** The S3 server's storage. */
    s3: join(root, 's3'),
    /** One JSON record per execution, named as the execution. */
    executions: join(root, 'executions'),
    /** The Iceberg tables' pointers (lib/iceberg/local-catalog.ts): `<tables>/<database>/<table>/`. */
    tables: join(root, 'catalog', 'tables'),
    /** Every SNS message the workflow published, one JSON object per line. */
    notifications: join(root, 'notifications.jsonl'),
    /** Curated Parquet copied out of the S3 server for DuckDB (no httpfs offline). */
    queryCache: join(root, 'cache', 'curated'),
    /** Scratch space of the conversion (downloaded CSV, Parquet before upload). */
    work: join(root, 'work'),
    /** The ledger's LevelDB folder (dynalite); `ledger.lock` beside it names the process serving it. */
    ledger: join(root, 'ledger'),
    /** The local notifier's subscriptions (`datalake subscribe`), one JSON object per line. */
    subscriptions: join(root, 'subscriptions.jsonl'),
    /** The console's front end as `local up` built it (lib/console/web-build.ts), served by its console server. */
    console: join(root, 'console'),
    /** Written while `datalake local up` runs: its endpoint, for the other commands. */
    server: join(root, 'server.json'),
  };
}

/** The paths of one lake folder. */
export type LakePaths = ReturnType<typeof lakePaths>;

/** A Node.js Lambda function with the lake's defaults: esbuild bundle, arm64, JSON logs, X-Ray. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Duration, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, REASON_NO_RESOURCE_LEVEL } from '../nag.ts';

/**
 * How every function is bundled by esbuild; `npm run bench` bundles the handlers with the same
 * options to report their size and cold import time.
 */
export const LAMBDA_BUNDLING = {
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Nothing external but Node's own modules: the bundle carries the AWS SDK it was tested with.
  // The runtime ships an SDK v3 of its own, but neither its version nor its packages are
  // documented (`@aws-sdk/lib-storage`, which Validate imports, may be missing: AWS review R1).
  externalModules: [] as string[],
  mainFields: ['module', 'main'],
  // Some bundled CommonJS dependencies call require(): give the ESM bundle one.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const;

/**
 * The handlers of the lake's functions, by function name (entry: lambdas/<name>/handler.ts); all in
 * the pipeline stack but `tables`, the IcebergTables custom resource's, in the storage stack.
 */
export const HANDLERS = ['trigger', 'validate', 'commit', 'reconcile', 'tables'] as const;

/**
 * DuckDB's Node packages that cannot be bundled: the binding loads a native library
 * (`duckdb.node` beside `libduckdb.so`) by `require`, which esbuild cannot inline. The Convert
 * function keeps them external and carries them in its asset's node_modules.
 */
export const DUCKDB_EXTERNALS = ['@duckdb/node-bindings'];

/** The DuckDB native binding package for each Lambda architecture (glibc: Lambda's AL2023). */
const DUCKDB_BINDINGS = {
  x86_64: '@duckdb/node-bindings-linux-x64',
  arm64: '@duckdb/node-bindings-linux-arm64',
} as const;

/** The instruction sets the Convert function can be built for. */
export type DuckdbArchitecture = keyof typeof DUCKDB_BINDINGS;

/**
 * Commands that put DuckDB's runtime packages into a bundle's node_modules: the binding's loader
 * and its libc check, copied from this install, and the native binding for `architecture`. The
 * x86_64 binding is copied from this install, so the bundle deployed carries the binding the tests
 * and the bench run here. The arm64 one cannot be installed on this x64 machine: it is fetched at
 * synth (`npm pack`, network needed then only) at the version and integrity the lock file pins.
 */
export function duckdbAssetCommands(
  outputDir: string,
  architecture: DuckdbArchitecture = 'x86_64',
): string[] {
  const require = createRequire(import.meta.url);
  const bindings = dirname(require.resolve('@duckdb/node-bindings/package.json'));
  // Resolved from the loader, as Node resolves them at run time.
  const from = createRequire(`${bindings}/`);
  const copy = (name: string, dir: string) => {
    const target = `${outputDir}/node_modules/${name}`;
    return [`mkdir -p "${target}"`, `cp -R "${dir}/." "${target}/"`];
  };
  const binding = DUCKDB_BINDINGS[architecture];
  const commands = [
    ...copy('@duckdb/node-bindings', bindings),
    ...copy('detect-libc', dirname(from.resolve('detect-libc/package.json'))),
  ];
  if (architecture === 'x86_64')
    return [...commands, ...copy(binding, dirname(from.resolve(`${binding}/package.json`)))];
  const locked = lockedPackage(binding);
  const pack = `${outputDir}/.duckdb-pack`;
  const tarball = `${pack}/${binding.slice(1).replace('/', '-')}-${locked.version}.tgz`;
  const verify = `const c=require('node:crypto'),f=require('node:fs');const h='sha512-'+c.createHash('sha512').update(f.readFileSync(process.argv[1])).digest('base64');if(h!==process.argv[2]){console.error('integrity mismatch for '+process.argv[1]);process.exit(1)}`;
  return [
    ...commands,
    `mkdir -p "${pack}" "${outputDir}/node_modules/${binding}"`,
    `npm pack "${binding}@${locked.version}" --pack-destination "${pack}" --silent`,
    `node -e "${verify}" "${tarball}" "${locked.integrity}"`,
    `tar -xzf "${tarball}" -C "${outputDir}/node_modules/${binding}" --strip-components=1`,
    `rm -rf "${pack}"`,
  ];
}

/** A package's version and integrity as package-lock.json pins them. */
function lockedPackage(name: string): { version: string; integrity: string } {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity) throw new Error(`package-lock.json pins no ${name}`);
  return { version: entry.version, integrity: entry.integrity };
}

/**
 * Commands that copy the dataset declarations next to a function's handler, at
 * `/var/task/datasets` (for `afterBundling`): the function then applies exactly the declarations
 * it was deployed with.
 */
export function bundleDatasets(datasetsDir: string) {
  return (_input: string, output: string) => [
    `mkdir -p ${output}/datasets`,
    `cp ${datasetsDir}/*.json ${output}/datasets/`,
  ];
}

/** Where {@link bundleDatasets} puts the declarations in the deployed function. */
export const BUNDLED_DATASETS_DIR = '/var/task/datasets';

/** Properties of {@link LakeFunction}. */
export interface LakeFunctionProps {
  /** Path of the handler module (exports `handler`). */
  readonly entry: string;
  /** Powertools service name, shown in every log line. */
  readonly serviceName: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Encrypts the function's log group. */
  readonly logKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /**
   * Commands run after bundling, e.g. to copy data files next to the handler.
   * @default - none
   */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
  /**
   * Ephemeral /tmp storage.
   * @default 512 MiB
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * The instruction set.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Packages left out of the bundle (the asset must then carry them, see `afterBundling`).
   * @default - none: everything but Node's own modules is bundled
   */
  readonly externalModules?: readonly string[];
}

/**
 * The one way the lake builds its functions, so every function gets the same runtime, bundling,
 * logging and tracing. Each bundle is self-sufficient, the AWS SDK included.
 */
export class LakeFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: LakeFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
    });
    const afterBundling = props.afterBundling;
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to its log group only.
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      role,
      entry: props.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ...(props.ephemeralStorageSize ? { ephemeralStorageSize: props.ephemeralStorageSize } : {}),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        ...LAMBDA_BUNDLING,
        format: nodejs.OutputFormat.ESM,
        externalModules: [...LAMBDA_BUNDLING.externalModules, ...(props.externalModules ?? [])],
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        ...(afterBundling
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling,
              },
            }
          : {}),
      },
    });
    acknowledge(role, 'IAM5[Resource::*]', REASON_NO_RESOURCE_LEVEL);
  }
}

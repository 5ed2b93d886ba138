/**
 * The web console on AWS (issue 17, opt-in with `console`): sign-in, the HTTP API and its three
 * functions, and the static site behind CloudFront. Stateless but for the user pool; refers to
 * the lake's buckets, ledger and workgroup by name, as the pipeline stack does.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aws, CfnOutput, type CfnResource, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contract.ts';
import type { ConsoleConfig, RouteGroup } from '../console/contract.ts';
import { buildWebSync } from '../console/web-build.ts';
import { ConsoleApi } from '../constructs/console-api.ts';
import { ConsoleAuth } from '../constructs/console-auth.ts';
import { ConsoleSite } from '../constructs/console-site.ts';
import { BUNDLED_DATASETS_DIR, bundleDatasets, LakeFunction } from '../constructs/lake-function.ts';
import { lakeKeyStatement, ledgerReadStatement, queryGrants } from '../constructs/operator-policy.ts';
import { RESULTS_PREFIX } from '../constructs/query-workgroup.ts';
import { queryableTables } from '../datasets/latest-view.ts';
import { acknowledge, acknowledgeWildcardResource } from '../nag.ts';
import type { Zone } from '../naming.ts';
import { handlerEntry, type LakeRefsProps, ledgerTable, zoneBucket } from './lake-refs.ts';

/** Properties of {@link ConsoleStack}. */
export interface ConsoleStackProps extends LakeRefsProps {
  /** The Athena workgroup the query route runs in (the pipeline stack's). */
  readonly workgroupName: string;
  /**
   * The built front end to deploy.
   * @default - web/ built by `buildWebSync` at synth (see {@link buildWebOnce})
   */
  readonly webDir?: string;
}

/**
 * Builds web/ into a temporary folder named by its content (`lake-web-<hash>`): every synth of the
 * same sources shares one folder instead of leaving a new one behind, and parallel synths (the
 * test files) never write into a folder another is reading.
 */
export function buildWebOnce(): string {
  const scratch = mkdtempSync(join(tmpdir(), 'lake-web-build-'));
  buildWebSync(scratch);
  const hash = createHash('sha256');
  for (const file of readdirSync(scratch, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(scratch, file);
    if (statSync(path).isFile()) hash.update(file).update(readFileSync(path));
  }
  const dir = join(tmpdir(), `lake-web-${hash.digest('hex').slice(0, 16)}`);
  try {
    renameSync(scratch, dir);
  } catch {
    // Built before with the same content: keep that one.
    rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/** The console: Cognito, HTTP API (read, upload and query functions) and the CloudFront site. */
export class ConsoleStack extends Stack {
  readonly auth: ConsoleAuth;
  readonly api: ConsoleApi;
  readonly site: ConsoleSite;
  readonly functions: Readonly<Record<RouteGroup, lambda.IFunction>>;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    const { config, key } = props;
    const base = `${config.prefix}-${config.stage}`;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const bucket = (id: string, zone: Zone) => zoneBucket(this, id, props, zone);
    const landing = bucket('LandingBucket', 'landing');
    const failure = bucket('FailureBucket', 'failure');
    const curated = bucket('CuratedBucket', 'curated');
    const results = bucket('ResultsBucket', 'results');
    const ledger = ledgerTable(this, props);
    const names = props.datasets.map((d) => d.name);

    const fn = (id: string, serviceName: string, environment: Record<string, string>, datasets: boolean) =>
      new LakeFunction(this, id, {
        entry: handlerEntry(serviceName),
        serviceName,
        memorySize: 512,
        // API Gateway answers 503 after 30 s: the function must not outlive its caller.
        timeout: Duration.seconds(29),
        logKey: key,
        logRetention,
        environment,
        ...(datasets ? { afterBundling: bundleDatasets(props.datasetsDir) } : {}),
      }).fn;

    // Read: the ledger (table and indexes), the failure zone's copies and reports; nothing else.
    const read = fn(
      'ApiRead',
      'api-read',
      { [ENV.apiRead.datasetsDir]: BUNDLED_DATASETS_DIR, [ENV.apiRead.ledgerTable]: ledger.tableName },
      true,
    );
    read.addToRolePolicy(ledgerReadStatement(ledger));
    const failed = failure.arnForObjects('*');
    read.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [failed] }));
    // Without ListBucket a report gone by lifecycle reads as 403 instead of NoSuchKey.
    read.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [failure.bucketArn] }),
    );
    read.addToRolePolicy(lakeKeyStatement(key, ['s3', 'dynamodb'], ['kms:Decrypt']));
    acknowledgeWildcardResource(
      read.role!,
      failed,
      "the file route reads a rejected file's copy and report, named after the landed file",
    );

    // Upload: signs a POST with its own credentials, so its role is the upload's permission:
    // PutObject under the declared datasets' folders of landing, and the key as S3 encrypts.
    const upload = fn(
      'ApiUpload',
      'api-upload',
      {
        [ENV.apiUpload.datasetsDir]: BUNDLED_DATASETS_DIR,
        [ENV.apiUpload.landingBucket]: landing.bucketName,
        [ENV.apiUpload.maxUploadBytes]: String(config.consoleMaxUploadBytes),
      },
      true,
    );
    const datasetFolders = names.map((n) => landing.arnForObjects(`${n}/*`));
    upload.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: datasetFolders }));
    // A single-part PUT or POST under SSE-KMS needs a data key only (no kms:Encrypt, no Decrypt).
    upload.addToRolePolicy(lakeKeyStatement(key, ['s3'], ['kms:GenerateDataKey']));
    for (const folder of datasetFolders) {
      acknowledgeWildcardResource(
        upload.role!,
        folder,
        'the upload route signs a POST for one file under a declared dataset folder, named by the user',
      );
    }

    // Query: Athena in the lake's workgroup, as the operator's policy grants it.
    const query = fn(
      'ApiQuery',
      'api-query',
      {
        [ENV.apiQuery.workgroup]: props.workgroupName,
        [ENV.apiQuery.database]: props.databaseName,
        [ENV.apiQuery.maxRows]: String(config.consoleQueryMaxRows),
      },
      false,
    );
    const grants = queryGrants(this, {
      curated,
      results,
      resultsPrefix: RESULTS_PREFIX,
      workgroupName: props.workgroupName,
      databaseName: props.databaseName,
      tables: props.datasets.flatMap(queryableTables),
      key,
    });
    for (const statement of grants.statements) query.addToRolePolicy(statement);
    query.addToRolePolicy(lakeKeyStatement(key, ['s3'], ['kms:Decrypt', 'kms:GenerateDataKey']));
    grants.acknowledge(query.role!);
    this.functions = { read, upload, query };

    // Sign-in first (the site's policy names its domain), then the API (named there too), the
    // site, and the client and routes that need the site's origin.
    this.auth = new ConsoleAuth(this, 'Auth', {
      domainPrefix: `${base}-${Aws.ACCOUNT_ID}`,
      adminEmails: config.consoleAdminEmails,
    });
    this.api = new ConsoleApi(this, 'Api', {
      rateLimit: config.consoleRateLimit,
      burstLimit: config.consoleBurstLimit,
      logKey: key,
      logRetention,
    });
    const signIn = this.auth.domain.baseUrl();
    const landingEndpoint = `https://${landing.bucketRegionalDomainName}`;
    this.site = new ConsoleSite(this, 'Site', {
      webDir: props.webDir ?? buildWebOnce(),
      sources: { connect: [this.api.url, signIn, landingEndpoint], formAction: [signIn] },
    });
    const origin = this.site.origin;
    const client = this.auth.addWebClient(origin);
    this.api.addRoutes(this.functions, this.auth.issuer, client.userPoolClientId);

    // CORS for the site's origin on the API and on the landing bucket (the browser POSTs the file
    // there). Set by API calls at deploy, not in the templates: the site's CSP names the API
    // (so the API cannot name the site without a cycle), and the landing bucket belongs to the
    // storage stack, which must not depend on this one.
    this.corsRules(landing, origin);

    const consoleConfig: ConsoleConfig = {
      apiUrl: this.api.url,
      auth: 'cognito',
      cognito: {
        region: this.region,
        userPoolId: this.auth.userPool.userPoolId,
        clientId: client.userPoolClientId,
        domain: signIn,
      },
      maxUploadBytes: config.consoleMaxUploadBytes,
      label: base,
    };
    this.site.deploy(consoleConfig);
    this.acknowledgeCdkHandlers();

    new CfnOutput(this, 'ConsoleUrl', { value: `${origin}/` });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    new CfnOutput(this, 'SignInDomain', { value: signIn });
  }

  /**
   * CDK's singleton functions behind AwsCustomResource and BucketDeployment: their roles and
   * runtimes are CDK's, and live only for the deploy's calls.
   */
  private acknowledgeCdkHandlers(): void {
    const child = (prefix: string) => {
      const found = this.node.children.find((c) => c.node.id.startsWith(prefix));
      if (!found) throw new Error(`no ${prefix}* construct in ${this.stackName}: CDK renamed a singleton`);
      return found;
    };
    const basicRole =
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
    // AwsCustomResource's provider: its calls are limited by each resource's own policy (above).
    acknowledge(
      child('AWS679f53fac002430cb0da5b7982bd2287'),
      basicRole,
      "CDK's AwsCustomResource provider function creates its own role with the basic execution policy",
    );
    const deployment = child('Custom::CDKBucketDeployment');
    acknowledge(
      deployment,
      basicRole,
      "CDK's BucketDeployment function creates its own role with the basic execution policy",
    );
    acknowledge(deployment, 'L1', "CDK's BucketDeployment function runs the Python runtime CDK pins");
    const grants: Record<string, string> = {
      'Action::s3:GetBucket*': 'CDK grants the deployment read of the asset bucket with its own wildcards',
      'Action::s3:GetObject*': 'CDK grants the deployment read of the asset objects with its own wildcards',
      'Action::s3:List*': 'CDK grants the deployment listing of the asset and site buckets',
      'Action::s3:Abort*': 'CDK grants the deployment write of the site bucket with its own wildcards',
      'Action::s3:DeleteObject*':
        'the deployment prunes files the new build no longer has from the site bucket',
      'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*':
        "the deployment reads the web build from CDK's asset bucket, named by content hash",
      'Resource::*':
        'CloudFront CreateInvalidation (after each deploy) has no resource-level permission here',
    };
    for (const [finding, reason] of Object.entries(grants))
      acknowledge(deployment, `IAM5[${finding}]`, reason);
    acknowledgeWildcardResource(
      deployment,
      this.site.bucket.arnForObjects('*'),
      "the deployment writes every file of the site's build",
    );
  }

  /** The API's and the landing bucket's CORS rules for `origin`, applied (and removed) by API calls. */
  private corsRules(landing: s3.IBucket, origin: string): void {
    const apiArn = this.formatArn({
      service: 'apigateway',
      account: '',
      resource: '/apis',
      resourceName: this.api.api.apiId,
    });
    this.onDeploy('ApiCors', {
      // CloudFormation updating the API resource may reset CORS set outside it: the call runs
      // again whenever the API's template properties change.
      rerunOn: templateHash(this.api.api.node.defaultChild as CfnResource),
      call: {
        service: 'ApiGatewayV2',
        action: 'UpdateApi',
        parameters: {
          ApiId: this.api.api.apiId,
          CorsConfiguration: {
            AllowOrigins: [origin],
            AllowMethods: ['GET', 'POST'],
            AllowHeaders: ['authorization', 'content-type'],
            MaxAge: 600,
          },
        },
      },
      // The API goes with this stack: nothing to undo.
      allow: new iam.PolicyStatement({ actions: ['apigateway:PATCH'], resources: [apiArn] }),
    });
    const rule = {
      AllowedOrigins: [origin],
      AllowedMethods: ['POST'],
      AllowedHeaders: ['*'],
      // The version id ties the upload to its ledger item.
      ExposeHeaders: ['ETag', 'x-amz-version-id'],
      MaxAgeSeconds: 600,
    };
    this.onDeploy('LandingCors', {
      call: {
        service: 'S3',
        action: 'PutBucketCors',
        parameters: { Bucket: landing.bucketName, CORSConfiguration: { CORSRules: [rule] } },
      },
      undo: { service: 'S3', action: 'DeleteBucketCors', parameters: { Bucket: landing.bucketName } },
      // PutBucketCors and DeleteBucketCors are both authorized by s3:PutBucketCORS.
      allow: new iam.PolicyStatement({ actions: ['s3:PutBucketCORS'], resources: [landing.bucketArn] }),
    });
  }

  /**
   * One AWS call made on create and update (and `undo` on delete), allowed exactly `allow`. A
   * `rerunOn` that changes makes an update that runs the call again: it is part of the physical
   * id, so use it only for a call without `undo` (the old id's delete would run the undo after).
   */
  private onDeploy(
    id: string,
    {
      call,
      undo,
      allow,
      rerunOn,
    }: { call: cr.AwsSdkCall; undo?: cr.AwsSdkCall; allow: iam.PolicyStatement; rerunOn?: string },
  ): cr.AwsCustomResource {
    if (undo && rerunOn !== undefined)
      throw new Error(`onDeploy ${id}: rerunOn would run its undo after its call`);
    const physical = `${this.stackName}-${id}${rerunOn === undefined ? '' : `-${rerunOn}`}`;
    const onCall = { ...call, physicalResourceId: cr.PhysicalResourceId.of(physical) };
    return new cr.AwsCustomResource(this, id, {
      onCreate: onCall,
      onUpdate: onCall,
      ...(undo ? { onDelete: undo } : {}),
      policy: cr.AwsCustomResourcePolicy.fromStatements([allow]),
      installLatestAwsSdk: false,
    });
  }
}

/**
 * A short hash of a resource's properties as the template will write them, resolved at synthesis
 * (as CDK's own Lambda version hash does), so it changes exactly when they do and never between
 * two syntheses of the same app.
 */
function templateHash(resource: CfnResource): string {
  return Lazy.string({
    produce: () => {
      const rendered = (resource as unknown as { _toCloudFormation(): unknown })._toCloudFormation();
      const { Resources } = Stack.of(resource).resolve(rendered) as { Resources: Record<string, unknown> };
      const json = JSON.stringify(
        Object.values(Resources).map((r) => (r as { Properties?: unknown }).Properties),
      );
      return createHash('sha256').update(json).digest('hex').slice(0, 16);
    },
  });
}

/**
 * The console stack (issue 17, opt-in with `console`): the HTTP API and its routes, the JWT
 * authorizer, the user pool and its client, CORS, throttling, CloudFront with origin access
 * control and its headers, the site bucket's policy, the config.json deployment, the functions'
 * settings; with `console` off, no console stack and the core stacks unchanged; cdk-nag clean.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/contract.ts';
import { type LakeConfig, MAX_POST_BYTES, parseConfig } from '../../lib/config.ts';
import { API_ROUTES, type ConsoleConfig, type RouteGroup } from '../../lib/console/contract.ts';
import { list, type Resource, render, resourceNamed, resourcesOf } from './cfn.ts';
import {
  acknowledgementReasons,
  buildTestLake,
  setUpOrFailEach,
  synthTemplates,
  TEST_CONTEXT,
  unacknowledgedFindings,
} from './synth.ts';

/** Console settings other than the defaults, to see each reach the template. */
const CONSOLE_CONTEXT = {
  ...TEST_CONTEXT,
  console: 'true',
  consoleRateLimit: 7,
  consoleBurstLimit: 11,
  consoleMaxUploadBytes: 123_456_789,
  consoleQueryMaxRows: 4321,
  consoleAdminEmails: 'ada@example.com, grace@example.com',
};

let app: App;
let config: LakeConfig;
let t: Template;
let on: { storage: Template; pipeline: Template };
let off: Awaited<ReturnType<typeof synthTemplates>>;
let stackNames: string[];

setUpOrFailEach(async () => {
  const lake = await buildTestLake(CONSOLE_CONTEXT);
  ({ app, config } = lake);
  if (!lake.console) throw new Error('console: true built no console stack');
  t = Template.fromStack(lake.console);
  on = { storage: Template.fromStack(lake.storage), pipeline: Template.fromStack(lake.pipeline) };
  stackNames = app.node.children.map((c) => c.node.id);
  off = await synthTemplates();
});

const resources = (type: string) => resourcesOf(t, type);
const one = (type: string): Resource => {
  const found = resources(type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const ref = (r: Resource) => ({ Ref: r.id });
const getAtt = (r: Resource, attribute: string) => ({ 'Fn::GetAtt': [r.id, attribute] });
/** The distribution's origin as the template writes it. */
const origin = () => `https://<${one('AWS::CloudFront::Distribution').id}.DomainName>`;
/** The function serving a route group (logical ids follow the construct ids ApiRead, ApiUpload, ApiQuery). */
const functionOf = (group: RouteGroup) =>
  resourceNamed(t, 'AWS::Lambda::Function', `Api${group[0]!.toUpperCase()}${group.slice(1)}`);
/** A custom resource's JSON call (`Create`), tokens rendered as `<Id.Attr>`. */
const callOf = (prefix: string) =>
  JSON.parse(render(resourceNamed(t, 'Custom::AWS', prefix).Properties.Create)) as {
    service: string;
    action: string;
    parameters: Record<string, unknown>;
  };

describe('the console on and off', () => {
  it('builds a console stack only when `console` is on (default off)', () => {
    expect(parseConfig(() => undefined).console).toBe(false);
    expect(config.console).toBe(true);
    expect(stackNames).toContain('csvlake-dev-console');
    expect(off.console).toBeUndefined();
    expect(off.app.node.children.map((c) => c.node.id)).not.toContain('csvlake-dev-console');
  });

  it('leaves the storage and pipeline templates exactly as they are without it', () => {
    expect(on.storage.toJSON()).toEqual(off.storage.toJSON());
    expect(on.pipeline.toJSON()).toEqual(off.pipeline.toJSON());
  });

  it('parses the console settings with their defaults and limits', () => {
    const defaults = parseConfig(() => undefined);
    expect(defaults.consoleMaxUploadBytes).toBe(2 ** 30);
    expect(defaults.consoleQueryMaxRows).toBe(10_000);
    expect([defaults.consoleRateLimit, defaults.consoleBurstLimit]).toEqual([25, 50]);
    expect(defaults.consoleAdminEmails).toEqual([]);
    expect(
      parseConfig((k) => (k === 'consoleMaxUploadBytes' ? MAX_POST_BYTES : undefined)).consoleMaxUploadBytes,
    ).toBe(5 * 2 ** 30);
    expect(() =>
      parseConfig((k) => (k === 'consoleMaxUploadBytes' ? MAX_POST_BYTES + 1 : undefined)),
    ).toThrow(/consoleMaxUploadBytes/);
    expect(() => parseConfig((k) => (k === 'consoleAdminEmails' ? 'not-an-address' : undefined))).toThrow(
      /not an e-mail address: "not-an-address"/,
    );
  });
});

describe('the HTTP API', () => {
  it('has one route per API_ROUTES entry, each to its group function, each behind the JWT authorizer', () => {
    const api = one('AWS::ApiGatewayV2::Api');
    expect(api.Properties.ProtocolType).toBe('HTTP');
    const authorizer = one('AWS::ApiGatewayV2::Authorizer');
    const routes = resources('AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      API_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    const integrations = new Map(resources('AWS::ApiGatewayV2::Integration').map((i) => [i.id, i]));
    for (const route of API_ROUTES) {
      const r = routes.find((x) => x.Properties.RouteKey === `${route.method} ${route.path}`)!;
      expect(r.Properties.ApiId).toEqual(ref(api));
      expect(r.Properties.AuthorizationType, r.Properties.RouteKey as string).toBe('JWT');
      expect(r.Properties.AuthorizerId).toEqual(ref(authorizer));
      const target = render(r.Properties.Target);
      const integration = integrations.get(/integrations\/<(\w+)>/.exec(target)![1]!)!;
      expect(integration.Properties.IntegrationUri).toEqual(getAtt(functionOf(route.group), 'Arn'));
    }
  });

  it('has no default route and no route without authorization', () => {
    const routes = resources('AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey)).not.toContain('$default');
    expect(routes.filter((r) => r.Properties.AuthorizationType !== 'JWT')).toEqual([]);
  });

  it("trusts tokens of the user pool's issuer for the console's client only", () => {
    const authorizer = one('AWS::ApiGatewayV2::Authorizer');
    const pool = one('AWS::Cognito::UserPool');
    const client = one('AWS::Cognito::UserPoolClient');
    expect(authorizer.Properties.AuthorizerType).toBe('JWT');
    expect(authorizer.Properties.IdentitySource).toEqual(['$request.header.Authorization']);
    const jwt = authorizer.Properties.JwtConfiguration as { Issuer: unknown; Audience: unknown[] };
    expect(render(jwt.Issuer)).toBe(`<${pool.id}.ProviderURL>`);
    expect(jwt.Audience).toEqual([ref(client)]);
  });

  it('throttles the stage as configured and logs its access to an encrypted log group', () => {
    const stage = one('AWS::ApiGatewayV2::Stage');
    expect(stage.Properties.StageName).toBe('$default');
    expect(stage.Properties.AutoDeploy).toBe(true);
    expect(stage.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 7,
      ThrottlingBurstLimit: 11,
    });
    const logs = resourceNamed(t, 'AWS::Logs::LogGroup', 'ApiAccessLogs');
    expect((stage.Properties.AccessLogSettings as { DestinationArn: unknown }).DestinationArn).toEqual(
      getAtt(logs, 'Arn'),
    );
    expect(logs.Properties.KmsKeyId).toBeDefined();
  });

  it("allows CORS from the site's origin only, with GET/POST and the two headers the page sends", () => {
    const call = callOf('ApiCors');
    expect([call.service, call.action]).toEqual(['ApiGatewayV2', 'UpdateApi']);
    expect(call.parameters).toEqual({
      ApiId: `<${one('AWS::ApiGatewayV2::Api').id}>`,
      CorsConfiguration: {
        AllowOrigins: [origin()],
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: ['authorization', 'content-type'],
        MaxAge: 600,
      },
    });
    // Not in the API's own template: the CSP names the API, so the API cannot name the site.
    expect(one('AWS::ApiGatewayV2::Api').Properties.CorsConfiguration).toBeUndefined();
  });

  it("sets CORS again when CloudFormation updates the API (which may reset it): a change of the API's properties changes the call's properties", async () => {
    // Prepare: the same app, the API's description changed.
    const changed = await buildTestLake(CONSOLE_CONTEXT);
    (changed.console!.api.api.node.defaultChild as CfnApi).description = 'another description';
    const other = Template.fromStack(changed.console!);
    const properties = (template: Template) => resourceNamed(template, 'Custom::AWS', 'ApiCors').Properties;
    const physicalId = (template: Template, phase: 'Create' | 'Update') =>
      (JSON.parse(render(properties(template)[phase])) as { physicalResourceId: { id: string } })
        .physicalResourceId.id;

    // Assess
    expect(resourceNamed(other, 'AWS::ApiGatewayV2::Api', 'Api').Properties.Description).toBe(
      'another description',
    );
    expect(properties(other).Update).not.toEqual(properties(t).Update);
    expect(physicalId(other, 'Update')).not.toBe(physicalId(t, 'Update'));
    expect(physicalId(t, 'Create')).toBe(physicalId(t, 'Update'));
    // The same app synthesized again: the same properties (no time or randomness in them).
    const again = await buildTestLake(CONSOLE_CONTEXT);
    expect(resourceNamed(Template.fromStack(again.console!), 'Custom::AWS', 'ApiCors').Properties).toEqual(
      properties(t),
    );
  }, 60_000);
});

describe('the functions', () => {
  const envOf = (group: RouteGroup) =>
    (functionOf(group).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  it('give each group its settings: declarations, ledger, landing bucket, cap, workgroup, row limit', () => {
    const workgroup = resourcesOf(off.pipeline, 'AWS::Athena::WorkGroup')[0]!.Properties.Name;
    expect(envOf('read')[ENV.apiRead.datasetsDir]).toBe('/var/task/datasets');
    expect(envOf('read')[ENV.apiRead.ledgerTable]).toBe('csvlake-dev-ledger');
    expect(envOf('upload')[ENV.apiUpload.datasetsDir]).toBe('/var/task/datasets');
    expect(render(envOf('upload')[ENV.apiUpload.landingBucket])).toBe(
      'csvlake-dev-landing-<AWS::AccountId>-<AWS::Region>',
    );
    expect(envOf('upload')[ENV.apiUpload.maxUploadBytes]).toBe('123456789');
    expect(envOf('query')[ENV.apiQuery.workgroup]).toBe(workgroup);
    expect(envOf('query')[ENV.apiQuery.database]).toBe('csvlake_dev');
    expect(envOf('query')[ENV.apiQuery.maxRows]).toBe('4321');
  });

  it('answer within API Gateway’s 30-second limit', () => {
    for (const group of ['read', 'upload', 'query'] as const) {
      expect(functionOf(group).Properties.Timeout as number).toBeLessThan(30);
    }
  });
});

describe('sign-in', () => {
  it('is a user pool of administrator-created users, by e-mail, with optional TOTP MFA', () => {
    const pool = one('AWS::Cognito::UserPool').Properties;
    expect(pool.AdminCreateUserConfig).toMatchObject({ AllowAdminCreateUserOnly: true });
    // Lite: the lowest price per active user that has what the console uses.
    expect(pool.UserPoolTier).toBe('LITE');
    expect(pool.UsernameAttributes).toEqual(['email']);
    expect(pool.MfaConfiguration).toBe('OPTIONAL');
    expect(pool.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    const password = (pool.Policies as { PasswordPolicy: Record<string, unknown> }).PasswordPolicy;
    expect(password.MinimumLength as number).toBeGreaterThanOrEqual(12);
    expect(password).toMatchObject({
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
  });

  it("has a public client: no secret, code grant, openid and email, back to the site's origin only", () => {
    const client = one('AWS::Cognito::UserPoolClient').Properties;
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect([...(client.AllowedOAuthScopes as string[])].sort()).toEqual(['email', 'openid']);
    expect((client.CallbackURLs as unknown[]).map((u) => render(u))).toEqual([`${origin()}/`]);
    expect((client.LogoutURLs as unknown[]).map((u) => render(u))).toEqual([`${origin()}/`]);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    // Short-lived tokens: minutes, not the hour Cognito gives by default.
    expect(client.TokenValidityUnits).toMatchObject({ AccessToken: 'minutes', IdToken: 'minutes' });
    expect(client.AccessTokenValidity as number).toBeLessThanOrEqual(60);
    expect(client.IdTokenValidity as number).toBeLessThanOrEqual(60);
  });

  it('has a hosted UI domain derived from the prefix, stage and account', () => {
    const domain = one('AWS::Cognito::UserPoolDomain').Properties;
    expect(render(domain.Domain)).toBe('csvlake-dev-<AWS::AccountId>');
  });

  it('invites the configured administrators by e-mail', () => {
    const users = resources('AWS::Cognito::UserPoolUser').map((u) => u.Properties);
    expect(users.map((u) => u.Username).sort()).toEqual(['ada@example.com', 'grace@example.com']);
    for (const u of users) expect(u.DesiredDeliveryMediums).toEqual(['EMAIL']);
  });
});

describe('the site', () => {
  it('is served by CloudFront through origin access control, HTTPS only, index.html at the root', () => {
    const oac = one('AWS::CloudFront::OriginAccessControl').Properties.OriginAccessControlConfig as Record<
      string,
      unknown
    >;
    expect(oac).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' });
    expect(resources('AWS::CloudFront::CloudFrontOriginAccessIdentity')).toEqual([]);
    const config = one('AWS::CloudFront::Distribution').Properties.DistributionConfig as Record<
      string,
      unknown
    >;
    expect(config.DefaultRootObject).toBe('index.html');
    const origins = config.Origins as Record<string, unknown>[];
    expect(origins).toHaveLength(1);
    expect(origins[0]!.OriginAccessControlId).toEqual(
      getAtt(one('AWS::CloudFront::OriginAccessControl'), 'Id'),
    );
    expect(origins[0]!.DomainName).toEqual(
      getAtt(resourceNamed(t, 'AWS::S3::Bucket', 'SiteBucket'), 'RegionalDomainName'),
    );
    expect(origins[0]!.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    const behavior = config.DefaultCacheBehavior as Record<string, unknown>;
    expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.ResponseHeadersPolicyId).toEqual(ref(one('AWS::CloudFront::ResponseHeadersPolicy')));
    expect(config.Logging).toMatchObject({ Prefix: 'cloudfront/' });
  });

  it('sends HSTS, nosniff, frame DENY, strict referrer and the strict content security policy', () => {
    const policy = one('AWS::CloudFront::ResponseHeadersPolicy').Properties.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: Record<string, Record<string, unknown>>;
    };
    const h = policy.SecurityHeadersConfig;
    expect(h.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 31_536_000, Override: true });
    expect(h.ContentTypeOptions).toEqual({ Override: true });
    expect(h.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(h.ReferrerPolicy).toEqual({ ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true });
    const csp = render(h.ContentSecurityPolicy!.ContentSecurityPolicy);
    const api = one('AWS::ApiGatewayV2::Api').id;
    const domain = one('AWS::Cognito::UserPoolDomain').id;
    const signIn = `https://<${domain}>.auth.<AWS::Region>.amazoncognito.com`;
    const landing =
      'https://csvlake-dev-landing-<AWS::AccountId>-<AWS::Region>.s3.<AWS::Region>.<AWS::URLSuffix>';
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' <${api}.ApiEndpoint> ${signIn} ${landing}`,
      "worker-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      `form-action 'self' ${signIn}`,
    ]);
  });

  it('keeps its bucket private: public access blocked, encrypted, no website hosting', () => {
    const bucket = resourceNamed(t, 'AWS::S3::Bucket', 'SiteBucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption).toBeDefined();
    expect(bucket.WebsiteConfiguration).toBeUndefined();
  });

  it('lets only the distribution read the bucket (AWS:SourceArn), and only over TLS', () => {
    const site = resourceNamed(t, 'AWS::S3::Bucket', 'SiteBucket');
    const policies = resources('AWS::S3::BucketPolicy').filter(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(ref(site)),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0]!.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    const distribution = one('AWS::CloudFront::Distribution').id;
    // The deployment's own grant goes through its role, not this policy: one Allow, CloudFront's.
    expect(allows).toHaveLength(1);
    expect(allows[0]!.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(allows[0]!.Action).toBe('s3:GetObject');
    const condition = allows[0]!.Condition as { StringEquals: Record<string, unknown> };
    expect(render(condition.StringEquals['AWS:SourceArn'])).toBe(
      `arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distribution}>`,
    );
    const denies = statements.filter((s) => s.Effect === 'Deny');
    expect(denies.map((s) => s.Condition)).toEqual([{ Bool: { 'aws:SecureTransport': 'false' } }]);
  });

  it('deploys the build (no-cache, the distribution invalidated) and a config.json of the API URL, user pool, client, domain and upload cap', () => {
    const deployment = one('Custom::CDKBucketDeployment').Properties;
    expect(deployment.DestinationBucketName).toEqual(ref(resourceNamed(t, 'AWS::S3::Bucket', 'SiteBucket')));
    expect(deployment.DistributionId).toEqual(ref(one('AWS::CloudFront::Distribution')));
    expect(deployment.Prune).toBe(true);
    // Fixed file names: every file revalidated by the browser, and CloudFront's copies dropped.
    expect(deployment.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(deployment.DistributionPaths).toEqual(['/*']);
    // Two sources: the web build, and config.json whose tokens the deployment resolves (markers).
    expect(list(deployment.SourceObjectKeys as unknown[])).toHaveLength(2);
    const markers = (deployment.SourceMarkers as Record<string, unknown>[])[1]!;
    const staged = readdirSync(app.outdir)
      .map((d) => join(app.outdir, d, 'config.json'))
      .filter((f) => existsSync(f));
    expect(staged).toHaveLength(1);
    const written = readFileSync(staged[0]!, 'utf8').replace(/<<marker:0xbaba:\d+>>/g, (m) => {
      expect(markers, m).toHaveProperty([m]);
      return render(markers[m]);
    });
    const pool = one('AWS::Cognito::UserPool').id;
    expect(JSON.parse(written)).toEqual({
      apiUrl: `<${one('AWS::ApiGatewayV2::Api').id}.ApiEndpoint>`,
      auth: 'cognito',
      cognito: {
        region: '<AWS::Region>',
        userPoolId: `<${pool}>`,
        clientId: `<${one('AWS::Cognito::UserPoolClient').id}>`,
        domain: `https://<${one('AWS::Cognito::UserPoolDomain').id}>.auth.<AWS::Region>.amazoncognito.com`,
      },
      maxUploadBytes: 123_456_789,
      label: 'csvlake-dev',
    } satisfies ConsoleConfig);
  });
});

describe('uploads from the browser', () => {
  it("set a CORS rule on the landing bucket for the site's origin (POST), and remove it on delete", () => {
    const call = callOf('LandingCors');
    expect([call.service, call.action]).toEqual(['S3', 'PutBucketCors']);
    expect(call.parameters).toEqual({
      Bucket: 'csvlake-dev-landing-<AWS::AccountId>-<AWS::Region>',
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [origin()],
            AllowedMethods: ['POST'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag', 'x-amz-version-id'],
            MaxAgeSeconds: 600,
          },
        ],
      },
    });
    const onDelete = JSON.parse(render(resourceNamed(t, 'Custom::AWS', 'LandingCors').Properties.Delete));
    expect([onDelete.action, onDelete.parameters.Bucket]).toEqual([
      'DeleteBucketCors',
      'csvlake-dev-landing-<AWS::AccountId>-<AWS::Region>',
    ]);
  });

  it("are not refused by the landing bucket's policy: it denies plain HTTP only", () => {
    const landing = resourceNamed(on.storage, 'AWS::S3::Bucket', 'BucketsLanding');
    const policy = resourcesOf(on.storage, 'AWS::S3::BucketPolicy').find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: landing.id }),
    )!;
    const denies = (
      policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }
    ).Statement.filter((s) => s.Effect === 'Deny');
    expect(denies.map((s) => s.Condition)).toEqual([{ Bool: { 'aws:SecureTransport': 'false' } }]);
  });
});

describe('stack outputs', () => {
  it('give the console URL, the API URL and the user pool id', () => {
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(render(outputs.ConsoleUrl!.Value)).toBe(`${origin()}/`);
    expect(render(outputs.ApiUrl!.Value)).toBe(`<${one('AWS::ApiGatewayV2::Api').id}.ApiEndpoint>`);
    expect(outputs.UserPoolId!.Value).toEqual(ref(one('AWS::Cognito::UserPool')));
  });
});

describe('security checks', () => {
  it('has no unacknowledged cdk-nag AwsSolutions finding, the console stack included', () => {
    expect(unacknowledgedFindings(app)).toEqual([]);
    expect(stackNames).toContain('csvlake-dev-console');
  });

  it('gives every console acknowledgement a reason of its own', () => {
    const reasons = acknowledgementReasons(app.node.findChild('csvlake-dev-console'));
    expect(reasons.length).toBeGreaterThan(10);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(30);
  });
});

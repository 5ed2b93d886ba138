/** The console's HTTP API: one route per API_ROUTES entry, each behind the Cognito JWT authorizer. */
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type RouteGroup } from '../console/contract.ts';

/** Properties of {@link ConsoleApi}. */
export interface ConsoleApiProps {
  /** The stage's steady request rate, requests per second. */
  readonly rateLimit: number;
  /** The stage's burst above the steady rate. */
  readonly burstLimit: number;
  readonly logKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/**
 * An HTTP API with no default route: each route of the contract goes to its group's function and
 * demands a valid token of the console's client. The `$default` stage is throttled and logs every
 * request to an encrypted log group. CORS is set by the console stack once the site's origin
 * exists (see ConsoleStack): the site's security headers name this API, so the API cannot name
 * the site in its own template.
 */
export class ConsoleApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ConsoleApiProps) {
    super(scope, id);
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'CSV data lake console API',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
    });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      // HTTP API's default JSON format: request id, caller IP, route, status, latency.
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(this.accessLogs) },
    });
  }

  /**
   * One route per API_ROUTES entry, to the function of its group, each demanding a token the
   * user pool (`issuer`) gave the console's client (`clientId`, the audience).
   */
  addRoutes(
    handlers: Readonly<Record<RouteGroup, lambda.IFunction>>,
    issuer: string,
    clientId: string,
  ): void {
    const authorizer = new HttpJwtAuthorizer('Cognito', issuer, { jwtAudience: [clientId] });
    const integrations = Object.fromEntries(
      Object.entries(handlers).map(([group, fn]) => [group, new HttpLambdaIntegration(group, fn)]),
    ) as Record<RouteGroup, HttpLambdaIntegration>;
    for (const route of API_ROUTES) {
      this.api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrations[route.group],
        authorizer,
      });
    }
  }

  /** The API's base URL (`https://<id>.execute-api.<region>.<suffix>`), without `/api`. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}

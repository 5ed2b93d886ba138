/** The console's sign-in: a Cognito user pool of administrator-created users, its hosted UI and the web client. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

/** Properties of {@link ConsoleAuth}. */
export interface ConsoleAuthProps {
  /** The hosted UI's domain prefix (globally unique in the Region: derived from the lake's name and the account). */
  readonly domainPrefix: string;
  /**
   * People created as users on deploy (Cognito e-mails each a temporary password).
   * @default - none: users are created with `aws cognito-idp admin-create-user`
   */
  readonly adminEmails?: readonly string[];
}

/**
 * A user pool nobody can sign up to (an administrator creates the users), signing in by e-mail
 * with a strong password and optional TOTP MFA, and its hosted UI; {@link ConsoleAuth.addWebClient}
 * adds the console's public client (no secret: the page holds nothing secret) using the
 * authorization code grant with PKCE, returning to the console's origin only, with short-lived
 * tokens.
 */
export class ConsoleAuth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: ConsoleAuthProps) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      // Lite has what the console uses (admin-created users, the classic hosted UI, TOTP) at the
      // lowest price per active user; CloudFormation's default for a new pool is Essentials.
      featurePlan: cognito.FeaturePlan.LITE,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // The users are the console's only state, and an administrator re-creates them in minutes:
      // deleting the stack removes them instead of leaving an orphaned pool behind.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.userPool,
      'COG2',
      'MFA is optional by design (issue 17): users can enrol TOTP; the console reads files and runs read-only queries',
    );
    acknowledge(
      this.userPool,
      'COG3',
      'threat protection (advanced security) is billed per active user; sign-in is by administrator-created users with strong passwords and optional MFA',
    );
    acknowledge(
      this.userPool,
      'COG8',
      'the Plus feature plan (threat protection) is billed per active user; see COG3',
    );
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: props.domainPrefix } });
    // One resource per address, its id from the address: reordering the list replaces no user.
    for (const email of props.adminEmails ?? []) {
      new cognito.CfnUserPoolUser(this, `Admin ${email}`, {
        userPoolId: this.userPool.userPoolId,
        username: email,
        userAttributes: [
          { name: 'email', value: email },
          { name: 'email_verified', value: 'true' },
        ],
        desiredDeliveryMediums: ['EMAIL'],
      });
    }
  }

  /**
   * The console's app client, once its origin (`https://<distribution domain>`) is known: sign-in
   * returns there, sign-out too.
   */
  addWebClient(origin: string): cognito.UserPoolClient {
    return this.userPool.addClient('Web', {
      generateSecret: false,
      // The hosted UI only: no password or SRP flow the page could call directly.
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [`${origin}/`],
        logoutUrls: [`${origin}/`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      // A stolen token is good for minutes; the page refreshes it through the working day.
      accessTokenValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.hours(8),
    });
  }

  /** The token issuer the API's JWT authorizer trusts (`https://cognito-idp.<region>.<suffix>/<pool id>`). */
  get issuer(): string {
    return this.userPool.userPoolProviderUrl;
  }
}

/** The console's static site: a private bucket behind CloudFront with origin access control and strict headers. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { ConsoleConfig } from '../console/contract.ts';
import { type ContentSources, contentSecurityPolicy, REFERRER_POLICY } from '../console/headers.ts';
import { acknowledge } from '../nag.ts';

/** Properties of {@link ConsoleSite}. */
export interface ConsoleSiteProps {
  /** The built front end (lib/console/web-build.ts `buildWebSync`). */
  readonly webDir: string;
  readonly sources: ContentSources;
}

/**
 * A private bucket (no website hosting, public access blocked, TLS only, encrypted) that only the
 * distribution reads, through origin access control; the distribution redirects HTTP to HTTPS and
 * adds HSTS, nosniff, frame DENY, a strict referrer policy and the content security policy. Both
 * log to a bucket of their own: a console sees little traffic, so the logs cost next to nothing,
 * and they are the record of who reached the sign-in page.
 */
export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  private readonly webDir: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.webDir = props.webDir;
    // CloudFront standard logging writes with bucket ACLs: the one bucket here that allows them.
    const logs = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
    });
    acknowledge(
      logs,
      'S1',
      'this bucket is itself the access-log destination of the site and its distribution',
    );
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3: the files are the public page's code; a KMS key would need the distribution in its policy.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site/',
      // Rebuilt from the repository at every deploy; the deployment empties it when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'CSV data lake console: security headers and content security policy',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy(props.sources),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          // The local server's policy (lib/console/headers.ts); CloudFront's enum values are the header's.
          referrerPolicy: REFERRER_POLICY as cloudfront.HeadersReferrerPolicy,
          override: true,
        },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'CSV data lake console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    acknowledge(
      this.distribution,
      'CFR1',
      'the console serves its users wherever they are; sign-in and the API decide who gets in',
    );
    acknowledge(
      this.distribution,
      'CFR2',
      'a static page of public code; the API behind it is authorized and throttled (WAF is billed per rule and request)',
    );
    acknowledge(
      this.distribution,
      'CFR4',
      'the default *.cloudfront.net certificate, whose security policy CloudFront fixes (TLSv1); a minimum of TLS 1.2 needs a custom domain and certificate, which this stack does not take yet',
    );
  }

  /** The site's origin, `https://<distribution domain>`. */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /**
   * Deploys the built front end and its `config.json` (tokens resolved at deploy), replacing the
   * bucket's contents and invalidating the distribution's cache. Every file is `no-cache`: the
   * names are fixed (main.js, worker.js, config.json), so a browser revalidates each (a 304 when
   * unchanged) and never runs an old script beside a new config.
   */
  deploy(config: ConsoleConfig): s3deploy.BucketDeployment {
    return new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [s3deploy.Source.asset(this.webDir), s3deploy.Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
  }
}

/**
 * The security headers the console's pages are served with: by CloudFront on AWS (its response
 * headers policy, lib/constructs/console-site.ts) and by the local console server of `local up`,
 * from this one definition.
 */

/** What a page may reach besides its own origin. */
export interface ContentSources {
  /** `connect-src`: the API, the sign-in domain (token exchange), the S3 endpoint the browser uploads to. */
  readonly connect: readonly string[];
  /** `form-action`: the hosted sign-in. */
  readonly formAction?: readonly string[];
}

/**
 * The content security policy of every page: nothing but the site's own scripts, styles and
 * worker, no inline code, no framing, connections only to `sources`.
 */
export function contentSecurityPolicy(sources: ContentSources): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ["connect-src 'self'", ...sources.connect].join(' '),
    "worker-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...(sources.formAction ?? [])].join(' '),
  ].join('; ');
}

/** The referrer policy: the API and S3 get the console's origin, never its paths. */
export const REFERRER_POLICY = 'strict-origin-when-cross-origin';

/**
 * Every security header of a console page served over plain HTTP on 127.0.0.1 (CloudFront adds
 * HSTS on AWS, which has no meaning without TLS).
 */
export function securityHeaders(sources: ContentSources): Readonly<Record<string, string>> {
  return {
    'content-security-policy': contentSecurityPolicy(sources),
    'x-content-type-options': 'nosniff',
    'referrer-policy': REFERRER_POLICY,
    'x-frame-options': 'DENY',
  };
}

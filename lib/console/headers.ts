/**
 * The security headers the console's pages are served with: by CloudFront on AWS (its response
 * headers policy) and by the local console server of `local up`, from this one list.
 */

/**
 * The Content-Security-Policy: everything from the page's own origin, plus `connect` (the API
 * and the S3 endpoint the browser uploads to, where those are other origins).
 */
export function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'self'",
    `connect-src ${["'self'", ...connect].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Every security header of a console page, by name. */
export function securityHeaders(connect: readonly string[] = []): Readonly<Record<string, string>> {
  return {
    'content-security-policy': contentSecurityPolicy(connect),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

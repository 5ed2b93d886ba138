/**
 * Sign-in for the console on AWS: Cognito's hosted UI, authorization code with PKCE (RFC 7636,
 * S256), tokens kept in sessionStorage (gone with the tab), the access token sent as
 * `Authorization: Bearer` and renewed with the refresh token before it expires (or on a 401), so a
 * working day goes on without a trip to the sign-in page; the page's route survives the trip when
 * one is needed. No DOM types beyond fetch and Web Crypto, so Node's tests run it.
 */
import type { ConsoleConfig } from '../../lib/console/contract.ts';

/** sessionStorage, or anything with its three methods (the tests use a Map). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

type Cognito = NonNullable<ConsoleConfig['cognito']>;

/** The tokens of a session. */
export interface Session {
  readonly accessToken: string;
  readonly idToken?: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Trades for new access and id tokens while it lasts (the app client sets how long). */
  readonly refreshToken?: string;
}

/** A finished sign-in: the session, and the route (URL hash) the page was on when it began. */
export interface SignedIn {
  readonly session: Session;
  readonly route: string;
}

/** Renews the access token before it expires, and once on demand (after a 401). */
export interface TokenSource {
  /** A current access token, renewed first when it is about to expire; undefined when there is none. */
  token(): Promise<string | undefined>;
  /** Renews the session now; true when a new access token was had. */
  refresh(): Promise<boolean>;
}

/** How long before its expiry an access token is renewed: a call made with it still arrives in time. */
const RENEW_MARGIN_MS = 60_000;

const SESSION_KEY = 'datalake.session';
const PENDING_KEY = 'datalake.signin';

/** base64url without padding (RFC 7636 appendix A). */
export function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A code verifier: 32 random bytes, base64url (43 characters, within RFC 7636's 43–128). */
export function createVerifier(
  random: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array = (b) => crypto.getRandomValues(b),
): string {
  return base64Url(random(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/** The hosted UI's authorize URL for a code flow with this challenge. */
export function authorizeUrl(
  cognito: Cognito,
  redirectUri: string,
  state: string,
  challenge: string,
): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: cognito.clientId,
    redirect_uri: redirectUri,
    scope: 'openid email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${cognito.domain.replace(/\/+$/, '')}/oauth2/authorize?${q}`;
}

/**
 * Starts a sign-in: keeps the verifier, the state and the page's route (hash; Cognito sends the
 * browser back to `redirectUri`, which has none) for the way back, returns where to go.
 */
export async function beginSignIn(
  cognito: Cognito,
  redirectUri: string,
  store: KeyValueStore,
  route = '',
): Promise<string> {
  const verifier = createVerifier();
  const state = createVerifier();
  store.setItem(PENDING_KEY, JSON.stringify({ verifier, state, route }));
  return authorizeUrl(cognito, redirectUri, state, await challengeOf(verifier));
}

/**
 * Finishes a sign-in on the redirect back (`?code=&state=`): checks the state, trades the code
 * for tokens and keeps them. Returns the session and the route to go back to; null when the URL
 * carries no code.
 */
export async function completeSignIn(
  cognito: Cognito,
  redirectUri: string,
  search: string,
  store: KeyValueStore,
  fetchImpl: typeof fetch = globalThis.fetch,
  now: () => number = Date.now,
): Promise<SignedIn | null> {
  const params = new URLSearchParams(search);
  const failure = params.get('error');
  if (failure)
    throw new Error(`sign-in failed: ${params.get('error_description') ?? failure}; sign in again`);
  const code = params.get('code');
  if (!code) return null;
  const pending = store.getItem(PENDING_KEY);
  store.removeItem(PENDING_KEY);
  const { verifier, state, route } = pending
    ? (JSON.parse(pending) as { verifier: string; state: string; route?: string })
    : { verifier: '', state: '', route: '' };
  if (!verifier || params.get('state') !== state) {
    throw new Error(
      'sign-in answer does not match the sign-in this tab started (state differs): sign in again',
    );
  }
  const grant = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  };
  const answer = await tokenGrant(cognito, grant, fetchImpl);
  if (!answer.ok) throw new Error(`sign-in failed: ${answer.problem}; sign in again`);
  const session = sessionOf(answer.body, undefined, now);
  store.setItem(SESSION_KEY, JSON.stringify(session));
  return { session, route: route ?? '' };
}

/** What the token endpoint answers (RFC 6749 section 5). */
interface TokenBody {
  readonly access_token: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
  readonly expires_in?: number;
}

/** A POST to the token endpoint: the tokens, or why there are none. The client is public: no secret. */
async function tokenGrant(
  cognito: Cognito,
  grant: Readonly<Record<string, string>>,
  fetchImpl: typeof fetch,
): Promise<{ ok: true; body: TokenBody } | { ok: false; problem: string }> {
  const response = await fetchImpl(`${cognito.domain.replace(/\/+$/, '')}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...grant, client_id: cognito.clientId }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<TokenBody> & { error?: string };
  if (!response.ok || !body.access_token) {
    return {
      ok: false,
      problem: `the token endpoint answered HTTP ${response.status} (${body.error ?? 'no token'})`,
    };
  }
  return { ok: true, body: body as TokenBody };
}

/** The session of a token answer; a refresh answer carries no refresh token unless rotated. */
function sessionOf(body: TokenBody, refreshToken: string | undefined, now: () => number): Session {
  return {
    accessToken: body.access_token,
    idToken: body.id_token,
    expiresAt: now() + (body.expires_in ?? 3600) * 1000,
    refreshToken: body.refresh_token ?? refreshToken,
  };
}

/** The kept session, expired or not. */
function storedSession(store: KeyValueStore): Session | null {
  const text = store.getItem(SESSION_KEY);
  return text ? (JSON.parse(text) as Session) : null;
}

/**
 * Trades the kept refresh token for new tokens and keeps them. Null when there is no refresh
 * token, or the token endpoint refuses it (expired, revoked: the session is then forgotten); a
 * network failure leaves the session for the next try.
 */
export async function refreshSession(
  cognito: Cognito,
  store: KeyValueStore,
  fetchImpl: typeof fetch = globalThis.fetch,
  now: () => number = Date.now,
): Promise<Session | null> {
  const refreshToken = storedSession(store)?.refreshToken;
  if (!refreshToken) return null;
  let answer: Awaited<ReturnType<typeof tokenGrant>>;
  try {
    answer = await tokenGrant(
      cognito,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      fetchImpl,
    );
  } catch {
    return null;
  }
  if (!answer.ok) {
    store.removeItem(SESSION_KEY);
    return null;
  }
  const session = sessionOf(answer.body, refreshToken, now);
  store.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/**
 * The access token for the API client: the kept one while it has more than a minute to live,
 * else a renewed one. Concurrent calls share one renewal (Cognito would answer each).
 */
export function tokenSource(
  cognito: Cognito,
  store: KeyValueStore,
  fetchImpl: typeof fetch = globalThis.fetch,
  now: () => number = Date.now,
): TokenSource {
  let renewing: Promise<Session | null> | undefined;
  const renew = () => {
    renewing ??= refreshSession(cognito, store, fetchImpl, now).finally(() => {
      renewing = undefined;
    });
    return renewing;
  };
  return {
    async token() {
      const session = storedSession(store);
      if (!session) return undefined;
      if (session.expiresAt - RENEW_MARGIN_MS > now()) return session.accessToken;
      const renewed = session.refreshToken ? await renew() : null;
      if (renewed) return renewed.accessToken;
      return session.expiresAt > now() ? session.accessToken : undefined;
    },
    refresh: async () => (await renew()) !== null,
  };
}

/**
 * The kept session, or null when there is none or it has expired (an expired one is kept, for
 * {@link refreshSession}).
 */
export function currentSession(store: KeyValueStore, now: () => number = Date.now): Session | null {
  const session = storedSession(store);
  return session && session.expiresAt > now() ? session : null;
}

/** Forgets the session; returns the hosted UI's logout URL, which ends its own session too. */
export function signOut(cognito: Cognito, logoutUri: string, store: KeyValueStore): string {
  store.removeItem(SESSION_KEY);
  const q = new URLSearchParams({ client_id: cognito.clientId, logout_uri: logoutUri });
  return `${cognito.domain.replace(/\/+$/, '')}/logout?${q}`;
}

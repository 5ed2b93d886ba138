/**
 * Sign-in for the console on AWS: Cognito's hosted UI, authorization code with PKCE (RFC 7636,
 * S256), tokens kept in sessionStorage (gone with the tab), the access token sent as
 * `Authorization: Bearer`. No DOM types beyond fetch and Web Crypto, so Node's tests run it.
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
}

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

/** Starts a sign-in: keeps the verifier and state for the way back, returns where to go. */
export async function beginSignIn(
  cognito: Cognito,
  redirectUri: string,
  store: KeyValueStore,
): Promise<string> {
  const verifier = createVerifier();
  const state = createVerifier();
  store.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  return authorizeUrl(cognito, redirectUri, state, await challengeOf(verifier));
}

/**
 * Finishes a sign-in on the redirect back (`?code=&state=`): checks the state, trades the code
 * for tokens and keeps them. Returns null when the URL carries no code.
 */
export async function completeSignIn(
  cognito: Cognito,
  redirectUri: string,
  search: string,
  store: KeyValueStore,
  fetchImpl: typeof fetch = globalThis.fetch,
  now: () => number = Date.now,
): Promise<Session | null> {
  const params = new URLSearchParams(search);
  const failure = params.get('error');
  if (failure)
    throw new Error(`sign-in failed: ${params.get('error_description') ?? failure}; sign in again`);
  const code = params.get('code');
  if (!code) return null;
  const pending = store.getItem(PENDING_KEY);
  store.removeItem(PENDING_KEY);
  const { verifier, state } = pending
    ? (JSON.parse(pending) as { verifier: string; state: string })
    : { verifier: '', state: '' };
  if (!verifier || params.get('state') !== state) {
    throw new Error(
      'sign-in answer does not match the sign-in this tab started (state differs): sign in again',
    );
  }
  const response = await fetchImpl(`${cognito.domain.replace(/\/+$/, '')}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cognito.clientId,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    id_token?: string;
    expires_in?: number;
    error?: string;
  };
  if (!response.ok || !body.access_token) {
    throw new Error(
      `sign-in failed: the token endpoint answered HTTP ${response.status} (${body.error ?? 'no token'}); sign in again`,
    );
  }
  const session: Session = {
    accessToken: body.access_token,
    idToken: body.id_token,
    expiresAt: now() + (body.expires_in ?? 3600) * 1000,
  };
  store.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The kept session, or null when there is none or it has expired. */
export function currentSession(store: KeyValueStore, now: () => number = Date.now): Session | null {
  const text = store.getItem(SESSION_KEY);
  if (!text) return null;
  const session = JSON.parse(text) as Session;
  if (session.expiresAt <= now()) {
    store.removeItem(SESSION_KEY);
    return null;
  }
  return session;
}

/** Forgets the session; returns the hosted UI's logout URL, which ends its own session too. */
export function signOut(cognito: Cognito, logoutUri: string, store: KeyValueStore): string {
  store.removeItem(SESSION_KEY);
  const q = new URLSearchParams({ client_id: cognito.clientId, logout_uri: logoutUri });
  return `${cognito.domain.replace(/\/+$/, '')}/logout?${q}`;
}

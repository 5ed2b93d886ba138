/**
 * The console's sign-in pieces (web/src/auth.ts): PKCE by RFC 7636's own example, the authorize
 * URL, and the way back: the state check, the token exchange and where the session is kept.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  base64Url,
  beginSignIn,
  challengeOf,
  completeSignIn,
  createVerifier,
  currentSession,
  type KeyValueStore,
  signOut,
} from '../../../web/src/auth.ts';

const COGNITO = {
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_abc',
  clientId: 'client123',
  domain: 'https://lake.auth.eu-west-1.amazoncognito.com',
};
const REDIRECT = 'https://console.example.com/';

/** sessionStorage's three methods over a Map. */
function memoryStore(): KeyValueStore & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

// RFC 7636 appendix B: the verifier's 32 octets, the verifier and its S256 challenge.
const RFC_OCTETS = [
  116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
  240, 91, 88, 5, 88, 83, 132, 141, 121,
];
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE (RFC 7636 appendix B)', () => {
  it('encodes the example octets as the example verifier', () => {
    expect(
      createVerifier((b) => {
        b.set(RFC_OCTETS);
        return b;
      }),
    ).toBe(RFC_VERIFIER);
  });

  it('derives the example S256 challenge', async () => {
    expect(await challengeOf(RFC_VERIFIER)).toBe(RFC_CHALLENGE);
  });

  it('uses the URL-safe alphabet without padding', () => {
    expect(base64Url(new Uint8Array([0xfb, 0xff, 0xfe]))).toBe('-__-');
    expect(base64Url(new Uint8Array([1]))).toBe('AQ');
  });

  it('makes a new 43-character verifier each time', () => {
    const a = createVerifier();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createVerifier()).not.toBe(a);
  });
});

describe('the hosted UI round trip', () => {
  it('asks for a code with the S256 challenge of the verifier it keeps', async () => {
    const store = memoryStore();
    const url = new URL(await beginSignIn(COGNITO, REDIRECT, store));
    const pending = JSON.parse(store.map.get('datalake.signin')!) as { verifier: string; state: string };
    expect(url.origin + url.pathname).toBe(`${COGNITO.domain}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client123',
      redirect_uri: REDIRECT,
      scope: 'openid email',
      state: pending.state,
      code_challenge: await challengeOf(pending.verifier),
      code_challenge_method: 'S256',
    });
    expect(authorizeUrl(COGNITO, REDIRECT, 's', 'c')).toContain('code_challenge=c');
  });

  it('trades the code with the kept verifier and keeps the tokens until they expire', async () => {
    const store = memoryStore();
    store.setItem('datalake.signin', JSON.stringify({ verifier: 'v'.repeat(43), state: 'st' }));
    let sent: { url: string; body: URLSearchParams } | undefined;
    const fetchToken: typeof fetch = async (url, init) => {
      sent = { url: String(url), body: new URLSearchParams(String(init?.body)) };
      return new Response(JSON.stringify({ access_token: 'AT', id_token: 'IT', expires_in: 60 }), {
        status: 200,
      });
    };
    const session = await completeSignIn(
      COGNITO,
      REDIRECT,
      '?code=C0DE&state=st',
      store,
      fetchToken,
      () => 1000,
    );
    expect(sent?.url).toBe(`${COGNITO.domain}/oauth2/token`);
    expect(Object.fromEntries(sent!.body)).toEqual({
      grant_type: 'authorization_code',
      client_id: 'client123',
      code: 'C0DE',
      redirect_uri: REDIRECT,
      code_verifier: 'v'.repeat(43),
    });
    expect(session).toEqual({ accessToken: 'AT', idToken: 'IT', expiresAt: 61_000 });
    expect(store.map.has('datalake.signin')).toBe(false); // a code is traded once
    expect(currentSession(store, () => 60_999)?.accessToken).toBe('AT');
    expect(currentSession(store, () => 61_000)).toBeNull();
    expect(store.map.has('datalake.session')).toBe(false);
  });

  it('refuses an answer whose state is not the one this tab sent', async () => {
    const store = memoryStore();
    store.setItem('datalake.signin', JSON.stringify({ verifier: 'v', state: 'mine' }));
    const never: typeof fetch = async () => {
      throw new Error('must not be called');
    };
    await expect(completeSignIn(COGNITO, REDIRECT, '?code=C&state=theirs', store, never)).rejects.toThrow(
      /state differs/,
    );
  });

  it('says why when the hosted UI or the token endpoint refuses', async () => {
    const store = memoryStore();
    await expect(
      completeSignIn(COGNITO, REDIRECT, '?error=access_denied&error_description=user+disabled', store),
    ).rejects.toThrow('sign-in failed: user disabled; sign in again');
    store.setItem('datalake.signin', JSON.stringify({ verifier: 'v', state: 's' }));
    const refuse: typeof fetch = async () =>
      new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400 });
    await expect(completeSignIn(COGNITO, REDIRECT, '?code=C&state=s', store, refuse)).rejects.toThrow(
      'the token endpoint answered HTTP 400 (invalid_grant)',
    );
    expect(await completeSignIn(COGNITO, REDIRECT, '', store)).toBeNull();
  });

  it('signs out by forgetting the session and ending the hosted UI’s', () => {
    const store = memoryStore();
    store.setItem('datalake.session', '{}');
    const url = new URL(signOut(COGNITO, REDIRECT, store));
    expect(store.map.has('datalake.session')).toBe(false);
    expect(url.pathname).toBe('/logout');
    expect(url.searchParams.get('logout_uri')).toBe(REDIRECT);
    expect(url.searchParams.get('client_id')).toBe('client123');
  });
});

/**
 * The console's sign-in pieces (web/src/auth.ts): PKCE by RFC 7636's own example, the authorize
 * URL, and the way back: the state check, the token exchange and where the session is kept; the
 * renewal by refresh token before expiry, and the route kept through the hosted UI.
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
  refreshSession,
  signOut,
  tokenSource,
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
      return new Response(
        JSON.stringify({ access_token: 'AT', id_token: 'IT', refresh_token: 'RT', expires_in: 60 }),
        { status: 200 },
      );
    };
    const signedIn = await completeSignIn(
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
    expect(signedIn?.session).toEqual({
      accessToken: 'AT',
      idToken: 'IT',
      expiresAt: 61_000,
      refreshToken: 'RT',
    });
    expect(store.map.has('datalake.signin')).toBe(false); // a code is traded once
    expect(currentSession(store, () => 60_999)?.accessToken).toBe('AT');
    expect(currentSession(store, () => 61_000)).toBeNull();
    // Kept when expired: its refresh token can still renew it.
    expect(JSON.parse(store.map.get('datalake.session')!)).toMatchObject({ refreshToken: 'RT' });
  });

  it('comes back to the route the sign-in began on', async () => {
    const store = memoryStore();
    await beginSignIn(COGNITO, REDIRECT, store, '#/file?key=orders%2Fa.csv&version=v2');
    const { state } = JSON.parse(store.map.get('datalake.signin')!) as { state: string };
    const tokens: typeof fetch = async () =>
      new Response(JSON.stringify({ access_token: 'AT', expires_in: 900 }), { status: 200 });
    const signedIn = await completeSignIn(COGNITO, REDIRECT, `?code=C&state=${state}`, store, tokens);
    expect(signedIn?.route).toBe('#/file?key=orders%2Fa.csv&version=v2');
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

/** A token endpoint that answers refresh grants with access tokens AT1, AT2, … and records each. */
function refreshEndpoint(answer: (n: number) => Response | undefined = () => undefined) {
  const grants: Record<string, string>[] = [];
  const fetchToken: typeof fetch = async (url, init) => {
    expect(String(url)).toBe(`${COGNITO.domain}/oauth2/token`);
    grants.push(Object.fromEntries(new URLSearchParams(String(init?.body))));
    return (
      answer(grants.length) ??
      new Response(JSON.stringify({ access_token: `AT${grants.length}`, id_token: 'IT', expires_in: 900 }), {
        status: 200,
      })
    );
  };
  return { grants, fetchToken };
}

function storeWith(session: object) {
  const store = memoryStore();
  store.setItem('datalake.session', JSON.stringify(session));
  return store;
}

describe('renewing the session with the refresh token', () => {
  it('trades the refresh token (public client: client id, no secret) and keeps it for the next time', async () => {
    const store = storeWith({ accessToken: 'OLD', expiresAt: 1000, refreshToken: 'RT' });
    const { grants, fetchToken } = refreshEndpoint();
    const session = await refreshSession(COGNITO, store, fetchToken, () => 5000);
    expect(grants).toEqual([{ grant_type: 'refresh_token', refresh_token: 'RT', client_id: 'client123' }]);
    expect(session).toEqual({ accessToken: 'AT1', idToken: 'IT', expiresAt: 905_000, refreshToken: 'RT' });
    expect(currentSession(store, () => 5000)?.accessToken).toBe('AT1');
  });

  it('takes a rotated refresh token when Cognito sends one', async () => {
    const store = storeWith({ accessToken: 'OLD', expiresAt: 1000, refreshToken: 'RT' });
    const { fetchToken } = refreshEndpoint(
      () => new Response(JSON.stringify({ access_token: 'A', refresh_token: 'RT2' }), { status: 200 }),
    );
    expect((await refreshSession(COGNITO, store, fetchToken))?.refreshToken).toBe('RT2');
  });

  it('forgets the session when the refresh token is refused, and keeps it when the network fails', async () => {
    const refused = storeWith({ accessToken: 'OLD', expiresAt: 1000, refreshToken: 'RT' });
    const { fetchToken } = refreshEndpoint(
      () => new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400 }),
    );
    expect(await refreshSession(COGNITO, refused, fetchToken)).toBeNull();
    expect(refused.map.has('datalake.session')).toBe(false);
    const offline = storeWith({ accessToken: 'OLD', expiresAt: 1000, refreshToken: 'RT' });
    const down: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await refreshSession(COGNITO, offline, down)).toBeNull();
    expect(offline.map.has('datalake.session')).toBe(true);
    expect(await refreshSession(COGNITO, memoryStore(), down)).toBeNull(); // no session: no call
  });

  it('hands out the kept token until a minute before expiry, then one renewal shared by concurrent calls', async () => {
    let clock = 0;
    const store = storeWith({ accessToken: 'AT0', expiresAt: 900_000, refreshToken: 'RT' });
    const { grants, fetchToken } = refreshEndpoint();
    const tokens = tokenSource(COGNITO, store, fetchToken, () => clock);
    clock = 839_999;
    expect(await tokens.token()).toBe('AT0');
    expect(grants).toHaveLength(0);
    clock = 840_000;
    expect(await Promise.all([tokens.token(), tokens.token(), tokens.token()])).toEqual([
      'AT1',
      'AT1',
      'AT1',
    ]);
    expect(grants).toHaveLength(1);
    expect(await tokens.token()).toBe('AT1'); // renewed until 1,740,000
    expect(await tokens.refresh()).toBe(true); // on demand (a 401)
    expect(await tokens.token()).toBe('AT2');
  });

  it('has no token without a session, or once an expired one cannot be renewed', async () => {
    const { fetchToken } = refreshEndpoint(() => new Response('{}', { status: 400 }));
    expect(await tokenSource(COGNITO, memoryStore(), fetchToken).token()).toBeUndefined();
    const store = storeWith({ accessToken: 'AT0', expiresAt: 1000, refreshToken: 'RT' });
    const tokens = tokenSource(COGNITO, store, fetchToken, () => 2000);
    expect(await tokens.token()).toBeUndefined();
    expect(await tokens.refresh()).toBe(false);
    // Without a refresh token, the kept one serves its last minute.
    const last = tokenSource(
      COGNITO,
      storeWith({ accessToken: 'AT0', expiresAt: 10_000 }),
      fetchToken,
      () => 9000,
    );
    expect(await last.token()).toBe('AT0');
  });
});

/**
 * The console's entry: reads config.json, signs in where the lake asks for it (Cognito's hosted UI
 * on AWS; none on 127.0.0.1, which the page says), then shows the view of the URL's hash.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleConfig, DatasetView } from '../../lib/console/contract.ts';
import { createApiClient } from './api.ts';
import { AppContext, type AppContextValue } from './app-context.ts';
import { beginSignIn, completeSignIn, currentSession, refreshSession, signOut, tokenSource } from './auth.ts';
import { href, useRoute, type View } from './router.ts';
import { DatasetsView } from './views/datasets.tsx';
import { FileView } from './views/file.tsx';
import { FilesView } from './views/files.tsx';
import { QueryView } from './views/query.tsx';
import { UploadView } from './views/upload.tsx';

const NAV: readonly { readonly view: View; readonly label: string }[] = [
  { view: 'upload', label: 'Check and upload' },
  { view: 'files', label: 'Files' },
  { view: 'datasets', label: 'Datasets' },
  { view: 'query', label: 'Query' },
];

/** Where Cognito sends the browser back to: this page, without query or hash. */
const redirectUri = () => `${location.origin}${location.pathname}`;

/** To the hosted sign-in, coming back to the route the page is on. */
const signIn = (cognito: NonNullable<ConsoleConfig['cognito']>) =>
  void beginSignIn(cognito, redirectUri(), sessionStorage, location.hash).then((url) => location.assign(url));

function App({ config }: { config: ConsoleConfig }) {
  const route = useRoute();
  const [datasets, setDatasets] = useState<readonly DatasetView[]>();
  const [datasetsError, setDatasetsError] = useState<string>();
  const [api] = useState(() => {
    const tokens = config.cognito && tokenSource(config.cognito, sessionStorage);
    return createApiClient({
      baseUrl: config.apiUrl,
      token: tokens?.token,
      refresh: tokens?.refresh,
      onUnauthorized: () => config.cognito && signIn(config.cognito),
    });
  });
  useEffect(() => {
    api.datasets().then(
      (r) => setDatasets(r.datasets),
      (error: Error) => setDatasetsError(`cannot load the datasets: ${error.message}`),
    );
  }, []);
  const value: AppContextValue = { config, api, datasets, datasetsError };
  const p = route.params;
  const current = route.view === 'file' ? 'files' : route.view;
  return (
    <AppContext.Provider value={value}>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <p class="brand">
          CSV data lake <span class="brand-label">{config.label}</span>
        </p>
        <nav aria-label="views">
          <ul>
            {NAV.map((n) => (
              <li key={n.view}>
                <a href={href(n.view)} aria-current={current === n.view ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {config.cognito && (
          <button
            type="button"
            class="signout"
            onClick={() =>
              config.cognito && location.assign(signOut(config.cognito, redirectUri(), sessionStorage))
            }
          >
            Sign out
          </button>
        )}
      </header>
      {config.auth === 'none' && (
        <p class="banner" role="note">
          Local lake: no sign-in. This console listens on 127.0.0.1 only.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {route.view === 'datasets' && <DatasetsView />}
        {route.view === 'upload' && (
          <UploadView key="upload" initialDataset={p.get('dataset') ?? undefined} />
        )}
        {route.view === 'files' && (
          <FilesView dataset={p.get('dataset') ?? undefined} status={p.get('status') ?? undefined} />
        )}
        {route.view === 'file' && (
          <FileView
            key={`${p.get('key')}@${p.get('version')}`}
            fileKey={p.get('key') ?? ''}
            version={p.get('version') ?? undefined}
            uploaded={p.get('uploaded') === '1'}
          />
        )}
        {route.view === 'query' && <QueryView table={p.get('table') ?? undefined} />}
      </main>
    </AppContext.Provider>
  );
}

function SignIn({ config, problem }: { config: ConsoleConfig; problem?: string }) {
  return (
    <main class="signin">
      <h1>CSV data lake</h1>
      <p>{config.label}</p>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <button type="button" class="primary" onClick={() => config.cognito && signIn(config.cognito)}>
        Sign in
      </button>
    </main>
  );
}

async function boot(root: HTMLElement): Promise<void> {
  let config: ConsoleConfig;
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = (await response.json()) as ConsoleConfig;
  } catch (error) {
    root.textContent = `cannot load the console's config.json (${(error as Error).message}): reload the page, or redeploy the console`;
    return;
  }
  if (config.auth === 'cognito' && config.cognito) {
    let problem: string | undefined;
    try {
      const signedIn = await completeSignIn(config.cognito, redirectUri(), location.search, sessionStorage);
      // Back where the sign-in began (the hash does not make the trip through the hosted UI).
      if (signedIn) history.replaceState(null, '', `${location.pathname}${signedIn.route || location.hash}`);
    } catch (error) {
      problem = (error as Error).message;
      history.replaceState(null, '', `${location.pathname}${location.hash}`);
    }
    // A reload after the access token expired: the refresh token may still renew it.
    if (!currentSession(sessionStorage) && !(await refreshSession(config.cognito, sessionStorage))) {
      render(<SignIn config={config} problem={problem} />, root);
      return;
    }
  }
  render(<App config={config} />, root);
}

const root = document.getElementById('app');
if (root) void boot(root);

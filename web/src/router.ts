/** Hash routes: `#/<view>?<params>`, so a link to a file's page can be shared and the back button works. */
import { useEffect, useState } from 'preact/hooks';

export type View = 'datasets' | 'upload' | 'files' | 'file' | 'query';
const VIEWS: readonly View[] = ['datasets', 'upload', 'files', 'file', 'query'];

export interface Route {
  readonly view: View;
  readonly params: URLSearchParams;
}

/** The route of a hash; an unknown or empty one is the drop zone. */
export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : 'upload';
  return { view, params: new URLSearchParams(query) };
}

/** A link to a view with parameters (empty ones left out). */
export function href(view: View, params: Readonly<Record<string, string | undefined>> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const text = q.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** What every view shares: the configuration, the API client and the datasets (loaded once). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ConsoleConfig, DatasetView } from '../../lib/console/contract.ts';
import type { ApiClient } from './api.ts';

export interface AppContextValue {
  readonly config: ConsoleConfig;
  readonly api: ApiClient;
  /** Undefined while loading. */
  readonly datasets: readonly DatasetView[] | undefined;
  readonly datasetsError: string | undefined;
}

export const AppContext = createContext<AppContextValue | undefined>(undefined);

/** The app's shared state (inside `<AppContext.Provider>`). */
export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside AppContext');
  return value;
}

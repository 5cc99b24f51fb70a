/** What the client keeps between calls. `refresh_token` is absent in cookie mode (SPEC §3.5). */
export interface TokenSet {
  readonly access_token: string;
  readonly refresh_token?: string;
  /** Epoch milliseconds when the access token expires. */
  readonly expires_at: number;
  /** The access token's lifetime in seconds, as issued. */
  readonly expires_in: number;
}

/** Where tokens live. Reads may be async (a native secure store); `undefined` means logged out. */
export interface TokenStore {
  get(): TokenSet | undefined | Promise<TokenSet | undefined>;
  set(tokens: TokenSet | undefined): void | Promise<void>;
}

/** The default: tokens in memory only, gone with the page or process. */
export function memoryStore(): TokenStore {
  let tokens: TokenSet | undefined;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

/** The part of the Web Storage API the adapter uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Tokens in `localStorage` (or any Web Storage), shared by the tabs of one
 * origin: every call reads them afresh, so a tab sees another tab's refresh.
 * Anything script can read, an XSS can read too: prefer cookie mode in browsers.
 */
export function localStorageStore(key = 'tessera.tokens', storage?: StorageLike): TokenStore {
  const area = () => storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
  return {
    get() {
      const raw = area()?.getItem(key);
      if (!raw) return undefined;
      try {
        return JSON.parse(raw) as TokenSet;
      } catch {
        return undefined;
      }
    },
    set(tokens) {
      if (tokens) area()?.setItem(key, JSON.stringify(tokens));
      else area()?.removeItem(key);
    },
  };
}

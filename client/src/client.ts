import { DpopSigner, hasIndexedDb, indexedDbKeyStore, memoryKeyStore, type DpopKeyStore } from './dpop.js';
import { Emitter } from './emitter.js';
import { errorFrom, TesseraError } from './errors.js';
import { passkeys } from './passkeys.js';
import { resources, type Requester } from './resources.js';
import { TesseraSocket, type SocketOptions, type WebSocketConstructor } from './socket.js';
import { memoryStore, type TokenSet, type TokenStore } from './token-store.js';
import type { Me, Session, TwoFactorEnrolment, TwoFactorStatus } from './types.js';

export interface ClientOptions {
  /** The server, e.g. `https://chat.example.com` (or `…/t/acme` for a tenant); in a browser, the page's origin by default. */
  baseUrl?: string;
  /** Where tokens live; memory by default (see `localStorageStore`). */
  store?: TokenStore;
  /**
   * SPEC §3.5: the refresh token travels only as the HttpOnly cookie `tessera_rt` (sent with
   * `credentials: 'include'`), so script never sees it. Browsers only.
   */
  refreshInCookie?: boolean;
  /** OAuth client id for the password grant; the built-in public client `tessera` by default. */
  clientId?: string;
  /** Refresh when less than this is left of the access token (capped at half its lifetime). Default 30 s. */
  refreshBeforeMs?: number;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** WebSocket constructor for `socket()` where there is no global one (Node 20: pass `ws`). */
  WebSocket?: WebSocketConstructor;
  /**
   * DPoP (RFC 9449): tokens bound to a key of this client, with a proof on every request, the ticket
   * and socket renewals. `true`: a non-extractable key kept in IndexedDB in browsers, in memory elsewhere.
   */
  dpop?: boolean | { keyStore: DpopKeyStore };
}

/** Why the client logged out: the user asked, the session was revoked (4003), or the refresh grant failed. */
export type LogoutReason = 'user' | 'revoked' | 'expired';

export interface ClientEvents {
  logout: { reason: LogoutReason };
  login: { username: string };
}

/** The claims of a tessera access token (SPEC §3.3) the client uses. */
export interface Claims {
  /** The user id. */
  sub: string;
  /** The session id (as in `GET /sessions`). */
  sid: string;
  username?: string;
  client_id: string;
  scope: string;
  roles: string[];
  /** Epoch seconds. */
  exp: number;
}

const MFA_GRANT = 'urn:tessera:params:oauth:grant-type:mfa';

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** Reads a JWT's payload (not verified: the server verifies; the client only reads its own token). */
function decodeClaims(token: string): Claims {
  const part = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)))) as Claims;
}

/**
 * A tessera client: accounts, tokens (single-flight refresh, refresh shortly
 * before expiry, logout on a dead session), typed resources, and `socket()`.
 */
export class TesseraClient extends Emitter<ClientEvents> {
  readonly baseUrl: string;
  private readonly store: TokenStore;
  private readonly cookie: boolean;
  private readonly doFetch: typeof fetch;
  private readonly dpop: DpopSigner | undefined;
  private refreshing: Promise<string> | undefined;
  /** The mfa_token of a login answered `mfa_required`, until `loginMfa` uses it. */
  private mfaToken: string | undefined;
  private readonly requester: Requester = <T>(method: string, path: string, body?: unknown) => this.request<T>(method, path, body);
  private readonly api = resources(this.requester);

  readonly tasks = this.api.tasks;
  readonly calendar = this.api.calendar;
  readonly conversations = this.api.conversations;
  readonly messages = this.api.messages;
  readonly sessions = {
    list: () => this.request<Session[]>('GET', '/sessions'),
    /** Ends one session; ending this client's own logs it out here too. */
    revoke: async (id: string) => {
      const own = (await this.claims())?.sid === id;
      await this.request<void>('DELETE', `/sessions/${encodeURIComponent(id)}`);
      if (own) await this.loggedOut('user');
    },
  };
  /**
   * Two-factor sign-in (TOTP) of the logged-in user: `enrol` with the current password, then `confirm`
   * with a first code from the app. Like `sessions`, it needs the `account` scope, which a login gets
   * unless it asks for a narrower `scope`.
   */
  readonly twoFactor = {
    status: () => this.request<TwoFactorStatus>('GET', '/me/2fa'),
    /** A wrong password rejects with 403 `forbidden`, and counts as a failed login (429 `rate_limited` after too many). */
    enrol: (password: string) => this.request<TwoFactorEnrolment>('POST', '/me/2fa', { password }),
    confirm: (otp: string) => this.request<void>('POST', '/me/2fa/confirm', { otp }),
    /** Needs a current code or a recovery code. */
    disable: (otp: string) => this.request<void>('DELETE', '/me/2fa', { otp }),
  };
  /** Passkeys of the logged-in user (scope `account`): `options(password)`, then `register` the browser's answer. */
  readonly passkeys = passkeys(this.requester);

  constructor(readonly options: ClientOptions = {}) {
    super();
    this.baseUrl = (options.baseUrl ?? (globalThis as { location?: { origin: string } }).location?.origin ?? '').replace(/\/$/, '');
    this.store = options.store ?? memoryStore();
    this.cookie = options.refreshInCookie ?? false;
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
    const { dpop } = options;
    this.dpop = dpop ? new DpopSigner(dpop === true ? (hasIndexedDb() ? indexedDbKeyStore() : memoryKeyStore()) : dpop.keyStore) : undefined;
  }

  url(path: string): string {
    return this.baseUrl + path;
  }

  /**
   * POST /signup → `{id, username}`, plus `verification_pending: true` when the server mails a
   * code first (then `verifySignup`); does not log in.
   */
  signup(input: { username: string; password: string; email?: string }): Promise<{ id: string; username: string; verification_pending?: true }> {
    return this.request('POST', '/signup', input);
  }

  /** Releases a new account with the code mailed to it. */
  verifySignup(username: string, code: string): Promise<void> {
    return this.request('POST', '/signup/verify', { username, code });
  }

  /** Mails a new verification code (at most one a minute goes out). */
  resendVerification(username: string): Promise<void> {
    return this.request('POST', '/signup/resend', { username });
  }

  /** Mails a reset code to the account (or every account with this address); resolves alike whether or not it exists. */
  forgotPassword(who: { username: string } | { email: string }): Promise<void> {
    return this.request('POST', '/password/forgot', who);
  }

  /** Sets a new password with the mailed code; every session of the account ends (this one's tokens included). */
  resetPassword(username: string, code: string, newPassword: string): Promise<void> {
    return this.request('POST', '/password/reset', { username, code, new_password: newPassword });
  }

  /**
   * The password grant (SPEC §3.1); resolves with the new token's claims. With two-factor sign-in
   * on it rejects with code `mfa_required`: finish with `loginMfa(otp)`.
   */
  async login(username: string, password: string, options: { scope?: string } = {}): Promise<Claims> {
    this.mfaToken = undefined;
    try {
      await this.grant({ grant_type: 'password', username, password, scope: options.scope, client_id: this.options.clientId });
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'mfa_required') this.mfaToken = error.body.mfa_token as string;
      throw error;
    }
    return this.announceLogin();
  }

  /** Completes a login answered `mfa_required` with a code from the authenticator app or a recovery code (retry on a wrong one). */
  async loginMfa(otp: string): Promise<Claims> {
    if (this.mfaToken === undefined) throw new TesseraError(0, 'mfa_not_pending', 'Log in with the password first.');
    await this.grant({ grant_type: MFA_GRANT, mfa_token: this.mfaToken, otp, client_id: this.options.clientId });
    this.mfaToken = undefined;
    return this.announceLogin();
  }

  /**
   * Ends this session (`all`: every session of the user), then forgets the tokens
   * whatever the server said. Rejects when the server could not be told, so
   * "log out everywhere" never fails silently.
   */
  async logout(options: { all?: boolean } = {}): Promise<void> {
    try {
      const res = await this.fetch('/logout', { method: 'POST', ...json(options.all ? { all: true } : {}) });
      if (!res.ok && res.status !== 401) throw await errorFrom(res);
    } finally {
      await this.loggedOut('user');
    }
  }

  me(): Promise<Me> {
    return this.request('GET', '/me');
  }

  /** Changes the password (needs the `account` scope); every other session of the user ends. A wrong current password counts as a failed login. */
  changePassword(currentPassword: string, newPassword: string): Promise<void> {
    return this.request('POST', '/me/password', { current_password: currentPassword, new_password: newPassword });
  }

  /** Whether tokens are held (they may still turn out revoked). */
  async loggedIn(): Promise<boolean> {
    return (await this.store.get()) !== undefined;
  }

  /**
   * After a reload: true when a session can be used. In cookie mode this
   * tries the refresh cookie; otherwise it checks the stored tokens.
   */
  async restore(): Promise<boolean> {
    if (!this.cookie) return this.loggedIn();
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  /** The claims of the held access token, or undefined when logged out. */
  async claims(): Promise<Claims | undefined> {
    const tokens = await this.store.get();
    return tokens && decodeClaims(tokens.access_token);
  }

  /** A live WebSocket to the gateway (see TesseraSocket); it connects at once. */
  socket(options: SocketOptions = {}): TesseraSocket {
    const socket = new TesseraSocket(this, { WebSocket: this.options.WebSocket, ...options });
    socket.connect();
    return socket;
  }

  /**
   * `fetch` relative to the server with the bearer token: refreshed first when
   * close to expiry, and on a 401 refreshed (once, shared by every caller) and retried once.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const send = (token: string | undefined) => this.send(path, init, token);
    const token = await this.accessToken();
    const res = await send(token);
    if (res.status !== 401 || token === undefined) return res;
    return send(await this.refresh(token));
  }

  /** A DPoP proof for `method` and `path` of this server, bound to `accessToken`; undefined without DPoP. */
  async dpopProof(method: string, path: string, accessToken: string): Promise<string | undefined> {
    return this.dpop?.proof(method, this.url(path), accessToken);
  }

  /**
   * One request with the token (as DPoP with a proof, or as Bearer), and with DPoP once more with a
   * fresh proof when the server answers that it wants its nonce (RFC 9449 §8).
   */
  private async send(path: string, init: RequestInit, token: string | undefined): Promise<Response> {
    const url = this.url(path);
    const attempt = async () => {
      const headers = new Headers(init.headers);
      if (this.dpop) headers.set('dpop', await this.dpop.proof(init.method ?? 'GET', url, token));
      if (token) headers.set('authorization', `${this.dpop ? 'DPoP' : 'Bearer'} ${token}`);
      return this.doFetch(url, { ...init, headers, ...(this.cookie ? { credentials: 'include' as const } : {}) });
    };
    const res = await attempt();
    return this.dpop && (await this.dpop.takeNonce(url, res)) ? attempt() : res;
  }

  /** A JSON request; resolves with the parsed body (undefined when there is none: 204, 202), rejects with TesseraError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(path, { method, ...(body === undefined ? {} : json(body)) });
    if (!res.ok) throw await errorFrom(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The access token, refreshed first when little of its life is left; undefined when logged out. */
  async accessToken(): Promise<string | undefined> {
    const tokens = await this.store.get();
    if (!tokens) return undefined;
    const margin = Math.min(this.options.refreshBeforeMs ?? 30_000, (tokens.expires_in * 1000) / 2);
    if (tokens.expires_at - Date.now() > margin) return tokens.access_token;
    try {
      return await this.refresh(tokens.access_token);
    } catch (error) {
      if (tokens.expires_at > Date.now() && !(error instanceof TesseraError && error.code === 'invalid_grant')) return tokens.access_token;
      throw error;
    }
  }

  /**
   * Single-flight refresh: every caller while one refresh grant is in flight
   * shares it; a caller whose `stale` token was already replaced gets the
   * replacement without another grant. `invalid_grant` logs out (once).
   */
  refresh(stale?: string): Promise<string> {
    if (this.refreshing) return this.refreshing;
    const run = async () => {
      const tokens = await this.store.get();
      if (stale !== undefined && tokens && tokens.access_token !== stale) return tokens.access_token;
      if (!tokens?.refresh_token && !this.cookie) throw new TesseraError(401, 'logged_out', 'Not logged in.');
      try {
        return (await this.grant({ grant_type: 'refresh_token', refresh_token: tokens?.refresh_token })).access_token;
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_grant') await this.loggedOut('expired');
        throw error;
      }
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** @internal Forgets the tokens and tells listeners, once per session. */
  async loggedOut(reason: LogoutReason): Promise<void> {
    const had = (await this.store.get()) !== undefined;
    await this.store.set(undefined);
    if (had) this.emit('logout', { reason });
  }

  private async announceLogin(): Promise<Claims> {
    const claims = (await this.claims())!;
    this.emit('login', { username: claims.username ?? '' });
    return claims;
  }

  private async grant(parameters: Record<string, string | undefined>): Promise<TokenSet> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(parameters)) if (value !== undefined) body.set(name, value);
    if (this.cookie) body.set('refresh_in_cookie', 'true');
    const res = await this.send('/token', { method: 'POST', body }, undefined);
    if (!res.ok) throw await errorFrom(res);
    const issued = (await res.json()) as { access_token: string; refresh_token?: string; expires_in: number };
    const tokens: TokenSet = {
      access_token: issued.access_token,
      refresh_token: issued.refresh_token,
      expires_in: issued.expires_in,
      expires_at: Date.now() + issued.expires_in * 1000,
    };
    await this.store.set(tokens);
    return tokens;
  }
}

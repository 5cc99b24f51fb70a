/**
 * DPoP (RFC 9449) for the client: one ES256 key whose private half is a
 * non-extractable WebCrypto key (script can sign with it, never read it), a
 * proof per request, and the server's nonce remembered (RFC 9449 §8).
 */

// WebCrypto's key types, named through `crypto.subtle` so this file compiles for browsers and for Node alike.
type Subtle = typeof crypto.subtle;
type Key = Parameters<Subtle['sign']>[1];
/** A key pair as WebCrypto makes it; the private key is not extractable. */
export interface DpopKeyPair {
  readonly privateKey: Key;
  readonly publicKey: Key;
}

/** Where the key pair lives: memory by default (Node), IndexedDB in browsers (`indexedDbKeyStore`), so it survives reloads. */
export interface DpopKeyStore {
  load(): Promise<DpopKeyPair | undefined>;
  save(pair: DpopKeyPair): Promise<void>;
}

export function memoryKeyStore(): DpopKeyStore {
  let pair: DpopKeyPair | undefined;
  return {
    load: async () => pair,
    save: async (next) => {
      pair = next;
    },
  };
}

// The part of IndexedDB the key store uses (typed here: the client also compiles without the DOM library).
interface IdbRequest<T> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbDatabase {
  transaction(store: string, mode: 'readonly' | 'readwrite'): { objectStore(name: string): IdbStore };
  createObjectStore(name: string): unknown;
  close(): void;
}
interface IdbStore {
  get(key: string): IdbRequest<unknown>;
  put(value: unknown, key: string): IdbRequest<unknown>;
}
type IdbFactory = { open(name: string, version: number): IdbRequest<IdbDatabase> & { onupgradeneeded: (() => void) | null } };

/** True where IndexedDB exists (browsers). */
export const hasIndexedDb = (): boolean => 'indexedDB' in globalThis;

const settled = <T>(request: IdbRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/** The key pair in IndexedDB (CryptoKeys are stored as they are: the private key stays non-extractable). */
export function indexedDbKeyStore(database = 'tessera', name = 'dpop-key'): DpopKeyStore {
  const STORE = 'keys';
  const run = async (mode: 'readonly' | 'readwrite', work: (store: IdbStore) => IdbRequest<unknown>): Promise<unknown> => {
    const opening = (globalThis as unknown as { indexedDB: IdbFactory }).indexedDB.open(database, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
    const db = await settled(opening);
    try {
      return await settled(work(db.transaction(STORE, mode).objectStore(STORE)));
    } finally {
      db.close();
    }
  };
  return {
    load: async () => (await run('readonly', (store) => store.get(name))) as DpopKeyPair | undefined,
    save: async (pair) => {
      await run('readwrite', (store) => store.put(pair, name));
    },
  };
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const segment = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));

/** `htu` (RFC 9449 §4.2): the URL without query and fragment. */
export const htuOf = (url: string): string => url.replace(/[?#].*$/, '');

/** Signs proofs with the store's key (made on first use) and keeps each server's latest nonce. */
export class DpopSigner {
  private pair: Promise<{ privateKey: Key; header: string }> | undefined;
  private readonly nonces = new Map<string, string>();

  constructor(private readonly store: DpopKeyStore) {}

  /** A proof for one request; with `accessToken`, bound to it (`ath`). */
  async proof(htm: string, url: string, accessToken?: string): Promise<string> {
    const { privateKey, header } = await (this.pair ??= this.key());
    const nonce = this.nonces.get(new URL(url).origin);
    const claims = {
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
      htm,
      htu: htuOf(url),
      iat: Math.floor(Date.now() / 1000),
      ...(nonce === undefined ? {} : { nonce }),
      ...(accessToken === undefined ? {} : { ath: base64url(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken))) }),
    };
    const input = `${header}.${segment(claims)}`;
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, encoder.encode(input));
    return `${input}.${base64url(signature)}`;
  }

  /**
   * Takes the `DPoP-Nonce` of an answer; true when the answer asked for one
   * (`use_dpop_nonce`), so the request is worth one retry with a new proof.
   */
  async takeNonce(url: string, res: Response): Promise<boolean> {
    const nonce = res.headers.get('dpop-nonce');
    if (nonce) this.nonces.set(new URL(url).origin, nonce);
    if (!nonce || (res.status !== 400 && res.status !== 401)) return false;
    if (res.headers.get('www-authenticate')?.includes('use_dpop_nonce')) return true;
    return res.status === 400 && ((await res.clone().json().catch(() => ({}))) as { error?: unknown }).error === 'use_dpop_nonce';
  }

  private async key(): Promise<{ privateKey: Key; header: string }> {
    let pair = await this.store.load();
    if (!pair) {
      pair = (await crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify'])) as DpopKeyPair;
      await this.store.save(pair);
    }
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    return { privateKey: pair.privateKey, header: segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }) };
  }
}

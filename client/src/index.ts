/**
 * tessera/client: a dependency-free client for browsers and Node ≥ 20.
 *
 * ```ts
 * const client = new TesseraClient({ baseUrl: 'http://127.0.0.1:8080' });
 * await client.login('alice', 'correct horse battery');
 * const socket = client.socket();
 * socket.on('message', (message) => console.log(message.content));
 * ```
 */
export { TesseraClient, type ClientEvents, type ClientOptions, type Claims, type LogoutReason } from './client.js';
export { TesseraSocket, type SocketEvents, type SocketOptions, type SocketState, type WebSocketConstructor, type WebSocketLike } from './socket.js';
export { TesseraError } from './errors.js';
export { indexedDbKeyStore, memoryKeyStore, type DpopKeyPair, type DpopKeyStore } from './dpop.js';
export type { Presence } from './presence.js';
export { localStorageStore, memoryStore, type StorageLike, type TokenSet, type TokenStore } from './token-store.js';
export { backoffDelay, type Backoff } from './seen.js';
export type * from './types.js';

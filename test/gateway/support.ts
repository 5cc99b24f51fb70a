import type { Socket } from 'node:net';
import { expect } from 'chai';
import type { IncomingHttpHeaders } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';
import { decodeJwt } from '../support/oauth';
import type { TestServer } from '../support/server';

/** How long a test waits for a frame or a close before it fails. */
export const WAIT_MS = 2_000;

/** A server → client frame (SPEC §6). */
export interface Frame {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A stored message as frames carry it (SPEC §5.3). */
export interface Message {
  readonly id: string;
  readonly session_id: string;
  readonly seq: number;
  readonly sender: string;
  readonly role: string;
  readonly type: string;
  readonly content: string;
  readonly timestamp: string;
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export interface WaitOptions {
  /** Only frames from this index of `frames` on count (frames that arrived before are ignored). */
  readonly since?: number;
  readonly timeoutMs?: number;
  /**
   * Count `timeoutMs` from the last frame that arrived rather than from the start: the wait fails
   * only when the server stops sending, however slow a loaded machine makes the whole (the test's
   * own timeout bounds it).
   */
  readonly whileProgressing?: boolean;
}

/** The `/ws/:username` path, with the token in the query when given. */
export const socketPath = (username: string, token?: string): string =>
  `/ws/${encodeURIComponent(username)}${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

const wsUrl = (server: TestServer, path: string): string => `${server.url.replace(/^http/, 'ws')}${path}`;

/** A client socket that records every frame it receives and lets a test wait for frames and for the close. */
export class TestSocket {
  readonly frames: Frame[] = [];
  private readonly listeners = new Set<() => void>();
  private closeResult: Closed | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.notify();
    });
    ws.on('error', () => undefined);
    ws.once('close', (code, reason) => {
      this.closeResult = { code, reason: reason.toString() };
      this.notify();
    });
  }

  /** Sends a frame object as JSON text, or a raw string as it is. */
  send(frame: Record<string, unknown> | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Frames of one type, in arrival order. */
  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** The message of every `message` frame, in arrival order. */
  messages(): Message[] {
    return this.ofType('message').map((frame) => frame.message as Message);
  }

  /** The first frame (from `since` on) that matches; fails after the timeout. */
  async waitFor(predicate: (frame: Frame) => boolean, options: WaitOptions = {}): Promise<Frame> {
    const [frame] = await this.waitForCount(predicate, 1, options);
    return frame!;
  }

  /** The first frame of a type (from `since` on). */
  next(type: string, options: WaitOptions = {}): Promise<Frame> {
    return this.waitFor((frame) => frame.type === type, options);
  }

  /** The first `count` frames (from `since` on) that match; fails after the timeout with what did arrive. */
  waitForCount(predicate: (frame: Frame) => boolean, count: number, { since = 0, timeoutMs = WAIT_MS, whileProgressing = false }: WaitOptions = {}): Promise<Frame[]> {
    return this.until(
      () => {
        const matching = this.frames.slice(since).filter(predicate);
        return matching.length >= count ? matching.slice(0, count) : undefined;
      },
      timeoutMs,
      `${count} matching frame(s)`,
      whileProgressing,
    );
  }

  /** The close code and reason; fails when the socket is still open after the timeout. */
  waitForClose(timeoutMs = WAIT_MS): Promise<Closed> {
    return this.until(() => this.closeResult, timeoutMs, 'close');
  }

  /** Sends a ping frame and waits for its pong: the socket is open and served. */
  async expectServed(): Promise<void> {
    const since = this.frames.length;
    this.send({ type: 'ping' });
    await this.next('pong', { since });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private until<T>(check: () => T | undefined, timeoutMs: number, what: string, whileProgressing = false): Promise<T> {
    return new Promise((resolve, reject) => {
      const expire = () =>
        setTimeout(() => {
          this.listeners.delete(listener);
          reject(new Error(`no ${what} within ${timeoutMs} ms${whileProgressing ? ' of the last frame' : ''}; frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 2_000)}`));
        }, timeoutMs);
      let timer = expire();
      const listener = () => {
        const value = check();
        // No frame arrives after the close: a wait for frames that the close leaves unmet fails now, saying why.
        if (value === undefined && (what === 'close' || this.closeResult === undefined)) {
          if (whileProgressing) {
            clearTimeout(timer);
            timer = expire();
          }
          return;
        }
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (value === undefined) reject(new Error(`closed ${JSON.stringify(this.closeResult)} before ${what}; frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 2_000)}`));
        else resolve(value);
      };
      this.listeners.add(listener);
      listener();
    });
  }

}

/** Sends the frames in one write, so the server reads them in one turn of its event loop: one batch. */
export function sendTogether(socket: TestSocket, frames: ReadonlyArray<Record<string, unknown>>): void {
  const tcp = (socket.ws as unknown as { _socket: Socket })._socket;
  tcp.cork();
  for (const frame of frames) socket.send(frame);
  tcp.uncork();
}

export interface Refusal {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** What an upgrade attempt came to: an open socket that got its welcome, or a refusal with its status and body. */
export type Attempt = { readonly socket: TestSocket; readonly refusal?: undefined } | { readonly socket?: undefined; readonly refusal: Refusal };

const redacted = (path: string) => path.replace(/(token|ticket)=[^&]+/, '$1=…');

/** Attempts an upgrade; resolves once the first frame (the welcome) arrived, or with the refusal. */
export function attemptUpgrade(server: TestServer, path: string, options: ClientOptions = {}): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const socket = new TestSocket(new WebSocket(wsUrl(server, path), options));
    const timer = setTimeout(() => reject(new Error(`no answer to the upgrade of ${redacted(path)} within ${WAIT_MS} ms`)), WAIT_MS);
    const settle = (attempt: Attempt) => {
      clearTimeout(timer);
      resolve(attempt);
    };
    socket.ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { unparsed: text };
        }
        settle({ refusal: { status: res.statusCode ?? 0, headers: res.headers, body } });
        socket.ws.terminate();
      });
    });
    socket.ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.next('welcome').then(() => settle({ socket }), () => undefined);
  });
}

/** Opens a socket and resolves once its welcome arrived; fails the test when the upgrade is refused. */
export async function connect(server: TestServer, path: string, options: ClientOptions = {}): Promise<TestSocket> {
  const { socket, refusal } = await attemptUpgrade(server, path, options);
  if (!socket) throw new Error(`the upgrade of ${redacted(path)} was refused: ${refusal.status} ${JSON.stringify(refusal.body)}`);
  return socket;
}

/** Opens `/ws/:username` with the token in the query. */
export const connectAs = (server: TestServer, username: string, token: string, options: ClientOptions = {}): Promise<TestSocket> =>
  connect(server, socketPath(username, token), options);

/** Asserts a refusal's status and SPEC §2 error body. */
export function expectRefusal(refusal: Refusal, status: number, code: string): void {
  expect(refusal.status, JSON.stringify(refusal.body)).to.equal(status);
  expect(refusal.headers['content-type']).to.match(/^application\/json/);
  expect(refusal.body.error).to.equal(code);
  expect(refusal.body.error_description).to.be.a('string').and.not.be.empty;
}

/** Attempts an upgrade that must be refused before any socket exists (SPEC §6); returns the refusal. */
export async function expectRefused(server: TestServer, path: string, status: number, code: string, options: ClientOptions = {}): Promise<Refusal> {
  const { socket, refusal } = await attemptUpgrade(server, path, options);
  if (socket) {
    socket.ws.terminate();
    throw new Error(`the upgrade of ${redacted(path)} was accepted`);
  }
  expectRefusal(refusal, status, code);
  return refusal;
}

/** Closes every socket given and waits until the server's registry is down to `remaining` sockets. */
export async function closeAll(server: TestServer, sockets: readonly TestSocket[], remaining = 0): Promise<void> {
  for (const socket of sockets) socket.ws.close();
  await Promise.all(sockets.map((socket) => socket.waitForClose()));
  await registrySize(server, remaining);
}

/** Waits (bounded) until the server's registry holds `size` sockets; it updates when the server sees each close. */
export async function registrySize(server: TestServer, size: number, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { registry } = server.tessera.gateway;
  while (registry.size !== size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(registry.size, 'sockets in the server registry').to.equal(size);
}

/** Signs an access token with the same claims as `token` (a fresh `jti`) as if issued at `now` (epoch ms). */
export function reissue(server: TestServer, token: string, now: number): string {
  const { claims } = decodeJwt(token);
  return server.tessera.services.accessTokens.issue(
    {
      subject: claims.sub as string,
      username: claims.username as string,
      clientId: claims.client_id as string,
      scopes: (claims.scope as string).split(' '),
      roles: claims.roles as string[],
      sessionId: claims.sid as string,
    },
    now,
  ).token;
}

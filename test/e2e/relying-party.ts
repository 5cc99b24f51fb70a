import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the relying party's redirect URI received: the URL (query mode) or the posted form (form_post). */
export interface Callback {
  readonly url: URL;
  readonly method: string;
  readonly form: URLSearchParams;
}

const WAIT_MS = 10_000;

/**
 * The relying party's side of the browser: a loopback server whose `/callback` and
 * `/signed-out` pages record what the browser brought back (RFC 8252 §7.3 loopback redirect).
 */
export class RelyingPartyPages {
  private readonly received: Callback[] = [];
  private readonly waiters: Array<() => void> = [];
  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<RelyingPartyPages> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        // Only the two pages count: a browser also asks for /favicon.ico and the like.
        if (!/^\/(callback|signed-out)(\?|$)/.test(req.url ?? '')) return void res.writeHead(404).end();
        pages.record({ url: new URL(req.url ?? '/', pages.origin), method: req.method ?? 'GET', form: new URLSearchParams(body) });
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Example App</title><h1>Back at Example App</h1>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // The handler above runs only once the server listens, after this line.
    const pages = new RelyingPartyPages(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return pages;
  }

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }

  get signedOutUri(): string {
    return `${this.origin}/signed-out`;
  }

  /** The next thing the browser brings to a page of the relying party (bounded wait). */
  async next(): Promise<Callback> {
    const deadline = Date.now() + WAIT_MS;
    while (this.received.length === 0) {
      if (Date.now() > deadline) throw new Error('the browser did not come back to the relying party');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.shift()!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private record(callback: Callback): void {
    this.received.push(callback);
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

const HEADERS_TIMEOUT_MS = 20_000; // default of HTTP_HEADERS_TIMEOUT_MS
const IN_FLIGHT_GRACE_MS = 5_000; // requests in flight at shutdown get this long; `serve` exits within 10 s
const REQUEST_TIMEOUT_MS = 30_000; // headers and body; never below the headers timeout
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
// Node checks both timeouts only this often (its default, 30 s, would let a slow client stay up to 50 s).
const CONNECTIONS_CHECK_MS = 1_000;

const STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

export interface HttpServerOptions {
  /** Milliseconds a client has to send its request headers (slowloris); at most 30 s. */
  readonly headersTimeoutMs?: number;
}

/** The HTTP server, and its graceful stop. */
export interface HttpServer {
  readonly server: Server;
  /**
   * Stops accepting connections at once, closes the idle ones, lets requests
   * in flight finish, and resolves when the last connection (upgraded
   * sockets included) has closed.
   */
  close(): Promise<void>;
}

/** The one HTTP server for the REST API and the gateway's upgrades, hardened against slow or broken clients. */
export function createHttpServer(app: Express, { headersTimeoutMs = HEADERS_TIMEOUT_MS }: HttpServerOptions = {}): HttpServer {
  const server = createServer({
    connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MS, headersTimeoutMs),
    ...expressConstructors(app),
  });
  // Slow clients must not hold sockets forever (slowloris).
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = Math.max(REQUEST_TIMEOUT_MS, headersTimeoutMs);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Requests Node cannot parse (raw CR/LF in a header, oversized headers) or that came too slowly still get the SPEC error body.
    const [status, reason] = STATUS[error.code ?? ''] ?? [400, 'Bad Request'];
    const body = JSON.stringify({ error: 'invalid_request', error_description: 'The request could not be parsed.' });
    if (socket.writable && !socket.writableEnded) {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  });
  const close = closeGracefully(server);
  // After closeGracefully's listener, which must see each request before the app answers it.
  server.on('request', app);
  return { server, close };
}

/**
 * Constructors for the server's requests and responses whose objects have
 * Express's prototypes from the start. Express gives each request and
 * response its own prototypes with Object.setPrototypeOf; an object whose
 * prototype changes gets a new hidden class, and V8 then runs Node's HTTP
 * code and Express's on shapes it cannot optimise for. Setting the prototype
 * an object already has is a no-op. Measured on GET /tasks: 350 → 195 µs of
 * CPU per request, and 1.7 → 0.4 MB promoted per scavenge (shorter GC
 * pauses, the p99). Empty (Node's own constructors) where Node's are classes.
 */
export function expressConstructors(app: Express): { IncomingMessage?: typeof IncomingMessage; ServerResponse?: typeof ServerResponse } {
  if (!callable(IncomingMessage) || !callable(ServerResponse)) return {};
  return { IncomingMessage: constructing<typeof IncomingMessage>(IncomingMessage, app.request), ServerResponse: constructing<typeof ServerResponse>(ServerResponse, app.response) };
}

// Node's IncomingMessage and ServerResponse are plain constructor functions, which can initialise an object
// that already exists; an ES class cannot be called so (Reflect.construct could, but measured no faster than stock).
const callable = (constructor: object): boolean => !Function.prototype.toString.call(constructor).startsWith('class');

function constructing<C extends new (...args: never[]) => object>(Base: C, prototype: object): C {
  const init = Base as unknown as (this: object, ...args: unknown[]) => void;
  function Constructed(this: object, ...args: unknown[]): void {
    init.apply(this, args);
  }
  Constructed.prototype = prototype;
  return Constructed as unknown as C;
}

/** Makes a response the last one on its connection (`Connection: close`), unless its head is already sent. */
function endConnectionAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}

/**
 * The graceful stop of `server`. server.close() stops the listener and closes
 * the connections idle at that moment; a keep-alive connection busy with a
 * request then would stay open for keepAliveTimeout after its answer, holding
 * up the exit. So while closing, every answer still to be sent says
 * `Connection: close` and Node ends its connection right after it. Telling
 * the client in the answer, rather than cutting the connection once idle,
 * also keeps it from sending another request on a connection closed under
 * it, which it could not know whether to retry. Requests still in flight
 * after IN_FLIGHT_GRACE_MS lose their connection.
 */
function closeGracefully(server: Server): () => Promise<void> {
  const unanswered = new Set<ServerResponse>();
  let closing = false;
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) return endConnectionAfter(res);
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  return () => {
    closing = true;
    for (const res of unanswered) endConnectionAfter(res);
    if (!server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      // A request that is still arriving (a slow or stalled client) would hold the close for up to
      // requestTimeout, past any process manager's patience: after a grace, its connection is cut.
      const cut = setTimeout(() => server.closeAllConnections(), IN_FLIGHT_GRACE_MS).unref();
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  };
}

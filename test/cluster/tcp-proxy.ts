import { connect, createServer, type Server, type Socket } from 'node:net';

/** One forwarded connection: the client's socket and the one to the target. */
type Link = readonly [client: Socket, upstream: Socket];

/**
 * A TCP proxy on a loopback port that forwards every connection to `target`.
 * `cut()` drops every forwarded connection and resets new ones, as a host
 * whose database went away; `stall()` stops forwarding bytes either way but
 * keeps every connection open and accepts new ones, as a network that drops
 * packets silently; `restore()` forwards again, what a stall held back first.
 * `restoreNewConnections()` forwards only connections made from then on: those
 * the stall held stay silent for good, as after a NAT or firewall in between
 * forgot them. The listening socket stays open throughout, so the port is
 * never handed to anyone else.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly forgotten = new WeakSet<Link>();
  private state: 'forwarding' | 'cut' | 'stalled' = 'forwarding';

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  /** The port it listens on (after `start()`). */
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  cut(): void {
    this.state = 'cut';
    for (const link of this.links) for (const socket of link) socket.resetAndDestroy();
  }

  stall(): void {
    this.state = 'stalled';
    for (const link of this.links) hold(link);
  }

  restore(): void {
    const held = this.state === 'stalled';
    this.state = 'forwarding';
    if (held) for (const link of this.links) if (!this.forgotten.has(link)) forward(link);
  }

  restoreNewConnections(): void {
    if (this.state === 'stalled') for (const link of this.links) this.forgotten.add(link);
    this.state = 'forwarding';
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    if (this.state === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const link: Link = [client, connect(this.target.port, this.target.host)];
    this.links.add(link);
    for (const [socket, other] of [link, [link[1], link[0]]] as const) {
      // Either side failing or closing ends the pair, as a lost network path would.
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        this.links.delete(link);
        other.destroy();
      });
    }
    if (this.state === 'stalled') hold(link);
    else forward(link);
  }
}

function forward([client, upstream]: Link): void {
  client.pipe(upstream);
  upstream.pipe(client);
}

/** Reads nothing more from either side: what was sent stays in the sockets' buffers until `forward`. */
function hold([client, upstream]: Link): void {
  client.unpipe(upstream).pause();
  upstream.unpipe(client).pause();
}

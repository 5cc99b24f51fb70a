import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { eventually, redisReachable, type Node } from './support';

export const REDIS_START_MS = 10_000;
/** Reconnects back off up to 5 s (src/redis.ts), so a process is ready again within a few seconds of Redis. */
export const RECOVERY_MS = 15_000;
const UNLIMITED_CLIENTS = 10_000; // redis-server's default maxclients

/** Waits (at most RECOVERY_MS) until `node` answers /readyz with `status`; resolves with that answer. */
export function readyz(node: Node, status: number) {
  return eventually(`${node.name} answering /readyz with ${status}`, RECOVERY_MS, async () => {
    const res = await node.request.get('/readyz');
    return res.status === status ? res : undefined;
  });
}

/** The redis-server on the PATH, or undefined. */
export function redisServerBinary(): string | undefined {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own on a loopback port, with no persistence: it can be killed and started again. */
export class OwnRedis {
  private child: ChildProcess | undefined;

  constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    await eventually(`redis-server on port ${this.port}`, REDIS_START_MS, async () => (await redisReachable(this.url)) || undefined);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Drops every pub/sub connection and keeps them from coming back: Redis is
   * held at its maxclients, so it refuses every new connection, while the
   * connections for commands stay up. Resolves with the number dropped and
   * the function that lets connections in again.
   */
  async dropPubSubConnections(): Promise<{ dropped: number; acceptConnections(): Promise<void> }> {
    // This connection stays open until connections are accepted again: it is the one way back in.
    const admin = new Redis(this.url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      const count = (list: string) => list.split('\n').filter((line) => line.trim() !== '').length;
      const all = count((await admin.call('CLIENT', 'LIST')) as string);
      const pubsub = count((await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string);
      await admin.config('SET', 'maxclients', String(all - pubsub));
      const dropped = (await admin.client('KILL', 'TYPE', 'pubsub')) as number;
      return {
        dropped,
        async acceptConnections() {
          try {
            await admin.config('SET', 'maxclients', String(UNLIMITED_CLIENTS));
          } finally {
            admin.disconnect();
          }
        },
      };
    } catch (error) {
      admin.disconnect();
      throw error;
    }
  }
}

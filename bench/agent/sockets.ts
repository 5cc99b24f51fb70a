// Socket workloads of the agent: handshake rate, holding many idle sockets,
// fan-out latency and closed-loop chat, each bounded in count and time.
import { performance } from 'node:perf_hooks';
import type {
  ChatArgs,
  ChatResult,
  FanoutArgs,
  FanoutResult,
  HandshakesArgs,
  HandshakesResult,
  OpenArgs,
  OpenResult,
  SocketServer,
  SocketTarget,
} from '../lib/agent-protocol';
import { dialects, type Dialect } from './dialects';
import { RawWs, UpgradeRefused } from './raw-ws';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 10_000;
const SAMPLE_LIMIT = 5;
const CLOSE_BATCH = 500; // sockets closed at once

/** An open socket: its first frames complete the handshake, later ones go to whatever workload listens. */
class Held {
  listener: (text: string) => void = () => undefined;
  readonly dialect: Dialect;
  private closedWaiters: Array<() => void> = [];
  ws!: RawWs;

  private constructor(
    server: SocketServer,
    readonly target: SocketTarget,
  ) {
    this.dialect = dialects[server.dialect];
  }

  /** Opens one socket and resolves when the dialect says the authenticated handshake is done. */
  static connect(server: SocketServer, target: SocketTarget): Promise<Held> {
    const held = new Held(server, target);
    return new Promise<Held>((resolve, reject) => {
      let ready = false;
      const fail = (error: Error) => {
        clearTimeout(timer);
        held.ws.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`no handshake frame within ${HANDSHAKE_TIMEOUT_MS} ms (socket ${held.ws.stage})`)), HANDSHAKE_TIMEOUT_MS);
      const onText = (text: string) => {
        if (ready) {
          if (!held.dialect.chore(held.ws, text)) held.listener(text);
          return;
        }
        try {
          if (!held.dialect.handshakeFrame(held.ws, target, text)) return;
        } catch (error) {
          fail(error as Error);
          return;
        }
        ready = true;
        clearTimeout(timer);
        resolve(held);
      };
      const onClosed = () => {
        for (const waiter of held.closedWaiters.splice(0)) waiter();
        if (!ready) fail(new Error('closed during the handshake'));
      };
      const headers = held.dialect.headers?.(target, server.port) ?? '';
      held.ws = new RawWs(server.port, held.dialect.path(target), { onText, onClosed }, HANDSHAKE_TIMEOUT_MS, headers);
      held.ws.upgraded.catch(fail);
    });
  }

  /** Sends a close frame and resolves when the TCP connection is gone (destroyed after a deadline). */
  close(): Promise<void> {
    if (this.ws.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.destroy(), CLOSE_TIMEOUT_MS);
      this.closedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close();
    });
  }
}

const describe = (error: unknown) => (error instanceof UpgradeRefused ? `HTTP ${error.status}` : error instanceof Error ? error.message : String(error));

function noteFailure(failures: string[], error: unknown): void {
  if (failures.length < SAMPLE_LIMIT) failures.push(describe(error));
}

/** Authenticated handshakes per second: each slot opens, waits for the handshake frame, closes, and goes again. */
export async function handshakes(args: HandshakesArgs): Promise<HandshakesResult> {
  const failures: string[] = [];
  let completed = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + args.durationMs;
  const slot = async () => {
    while (performance.now() < deadline) {
      const target = args.targets[next++ % args.targets.length]!;
      try {
        const held = await Held.connect(args, target);
        completed++;
        await held.close();
      } catch (error) {
        failed++;
        noteFailure(failures, error);
      }
    }
  };
  await Promise.all(Array.from({ length: args.connections }, slot));
  const seconds = (performance.now() - started) / 1000;
  return { completed, perSecond: completed / seconds, failed, failures };
}

const groups = new Map<string, Held[]>();

/**
 * Opens `count` sockets, `concurrency` handshakes at a time, and keeps them
 * under `tag`. A socket that failed is tried once more at the end, so a
 * stall of the shared machine does not void a run; the retries are counted
 * and reported, and a second failure is a failure.
 */
export async function open(args: OpenArgs): Promise<OpenResult> {
  const held = groups.get(args.tag) ?? [];
  groups.set(args.tag, held);
  const failures: string[] = [];
  const started = performance.now();
  const attempt = async (indices: readonly number[], concurrency: number): Promise<number[]> => {
    const failedIndices: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < indices.length) {
        const index = indices[next++]!;
        try {
          held.push(await Held.connect(args, args.targets[index % args.targets.length]!));
        } catch (error) {
          failedIndices.push(index);
          noteFailure(failures, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, indices.length) }, worker));
    return failedIndices;
  };
  const firstFailures = await attempt(
    Array.from({ length: args.count }, (_, i) => i),
    args.concurrency,
  );
  const failed = (await attempt(firstFailures, 1)).length;
  return { opened: args.count - failed, failed, retried: firstFailures.length, failures, seconds: (performance.now() - started) / 1000 };
}

/** Closes every socket under `tag`, a batch at a time, and forgets them. */
export async function close(tag: string): Promise<{ closed: number }> {
  const held = groups.get(tag) ?? [];
  groups.delete(tag);
  for (let start = 0; start < held.length; start += CLOSE_BATCH) await Promise.all(held.slice(start, start + CLOSE_BATCH).map((socket) => socket.close()));
  return { closed: held.length };
}

function heldUnder(tag: string): Held[] {
  const held = groups.get(tag);
  if (!held || held.length === 0) throw new Error(`no sockets open under ${tag}`);
  return held;
}

// Message numbers are unique for the agent's whole life: tessera keeps a
// nonce per sender, and a repeated one returns the first message without a
// new delivery (SPEC §5.3).
let messageNumber = 0;

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** Sends one message at a time from the sender and times its arrival at every receiver. */
export async function fanout(args: FanoutArgs): Promise<FanoutResult> {
  const sender = heldUnder(args.senderTag)[0]!;
  const receivers = heldUnder(args.receiverTag);
  const { dialect } = sender;
  const latencies: number[] = [];
  let missing = 0;
  for (let index = 0; index < args.messages; index++) {
    let sentAt = 0;
    let arrived = 0;
    const number = messageNumber++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        missing += receivers.length - arrived;
        resolve();
      }, args.timeoutMs);
      for (const receiver of receivers) {
        let got = false;
        receiver.listener = (text) => {
          if (got || !dialect.isDelivery(text)) return;
          got = true;
          latencies.push(performance.now() - sentAt);
          if (++arrived === receivers.length) {
            clearTimeout(timer);
            resolve();
          }
        };
      }
      const frame = dialect.message(sender.target, `fan-out message ${number}`, number);
      sentAt = performance.now();
      sender.ws.sendText(frame);
    });
    if (arrived === 0) {
      // Nothing arrives at all: the rest of the round would only wait out its timeouts.
      missing += (args.messages - index - 1) * receivers.length;
      break;
    }
  }
  for (const receiver of receivers) receiver.listener = () => undefined;
  latencies.sort((a, b) => a - b);
  return { deliveries: latencies.length, missing, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? Number.NaN };
}

const PACE_TICK_MS = 5;

/**
 * Closed loop: every socket keeps `inFlight` messages outstanding, sending
 * the next when an ack (or error) answers one, for `durationMs`. Open loop
 * (`ratePerSecond`): messages at that rate, evenly spaced, sockets in turn,
 * skipping a socket that already has `inFlight` outstanding. Acks, deliveries
 * and ack latencies are counted in that window, then what is still in flight
 * drains (bounded) so the next round starts clean.
 */
export async function chat(args: ChatArgs): Promise<ChatResult> {
  const sockets = args.tags.flatMap(heldUnder);
  const { dialect } = sockets[0]!;
  const errorSamples: string[] = [];
  const latencies: number[] = [];
  // A socket's acks come in the order it sent: the write times of what it has outstanding, oldest first.
  const sentAt = new Map<Held, number[]>(sockets.map((socket) => [socket, []]));
  const paced = args.ratePerSecond !== undefined;
  let acked = 0;
  let delivered = 0;
  let errors = 0;
  let outstanding = 0;
  let sending = true;
  let drained: () => void = () => undefined;
  const send = (socket: Held) => {
    outstanding++;
    const number = messageNumber++;
    sentAt.get(socket)!.push(performance.now());
    socket.ws.sendText(dialect.message(socket.target, `chat message ${number}`, number));
  };
  for (const socket of sockets) {
    socket.listener = (text) => {
      if (dialect.isDelivery(text)) {
        delivered++;
        return;
      }
      const started = sentAt.get(socket)!.shift();
      if (dialect.isAck(text)) {
        acked++;
        if (sending && started !== undefined) latencies.push(performance.now() - started);
      } else {
        errors++;
        if (errorSamples.length < SAMPLE_LIMIT) errorSamples.push(text.slice(0, 200));
      }
      outstanding--;
      if (sending && !paced) send(socket);
      else if (!sending && outstanding === 0) drained();
    };
  }
  const started = performance.now();
  let pacer: NodeJS.Timeout | undefined;
  if (paced) {
    let sent = 0;
    let next = 0;
    pacer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * args.ratePerSecond!);
      for (; sent < due; sent++) {
        let free: Held | undefined;
        for (let tries = 0; !free && tries < sockets.length; tries++) {
          const socket = sockets[next++ % sockets.length]!;
          if (sentAt.get(socket)!.length < args.inFlight) free = socket;
        }
        if (!free) break;
        send(free);
      }
      sent = due; // a message no socket had room for is skipped, not owed later
    }, PACE_TICK_MS);
  } else for (const socket of sockets) for (let i = 0; i < args.inFlight; i++) send(socket);
  await new Promise((resolve) => setTimeout(resolve, args.durationMs));
  clearInterval(pacer);
  sending = false;
  const seconds = (performance.now() - started) / 1000;
  const inWindow = { acked, delivered, errors };
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    drained = () => {
      clearTimeout(timer);
      resolve();
    };
    if (outstanding === 0) drained();
  });
  for (const socket of sockets) socket.listener = () => undefined;
  latencies.sort((a, b) => a - b);
  const ackP50Ms = latencies.length > 0 ? percentile(latencies, 50) : null;
  const ackP99Ms = latencies.length > 0 ? percentile(latencies, 99) : null;
  return { ...inWindow, seconds, ackP50Ms, ackP99Ms, errorSamples };
}

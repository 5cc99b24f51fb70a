import { createHmac } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createLogger } from '../../src/logger';
import { clientAuth, postMessage, startConversation, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

const SECRET = 'webhook-test-secret';
const WAIT_MS = 3_000; // bound of every wait for a delivery
const hmac = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/** Resolves once `done()` holds, checked again on each `event`; fails after WAIT_MS. */
async function until(emitter: EventEmitter, event: string, done: () => boolean, what: string): Promise<void> {
  const signal = AbortSignal.timeout(WAIT_MS);
  while (!done()) {
    if (signal.aborted) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await once(emitter, event, { signal }).catch(() => undefined);
  }
}

/** The message a delivery carries, if its body is the JSON the webhook sends. */
function messageOf(raw: string): { id?: string; role?: string } | undefined {
  try {
    return (JSON.parse(raw) as { message?: { id?: string; role?: string } }).message;
  } catch {
    return undefined;
  }
}

/** One request the receiver got, and the status it answered. */
interface Attempt {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly messageId: string | undefined;
  readonly role: string | undefined;
  status?: number;
}

/** A webhook receiver on 127.0.0.1 that records every attempt; it can fail or hold the next ones. */
async function startReceiver() {
  const attempts: Attempt[] = [];
  const events = new EventEmitter();
  let failures = 0;
  let gate: Promise<void> | undefined;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const message = messageOf(raw);
      const attempt: Attempt = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, messageId: message?.id, role: message?.role };
      const status = failures > 0 ? ((failures -= 1), 500) : 200;
      const held = gate;
      gate = undefined;
      void (held ?? Promise.resolve()).then(() => {
        attempt.status = status;
        res.writeHead(status).end();
        attempts.push(attempt);
        events.emit('attempt');
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    attempts,
    /** Answers the next `count` attempts with 500. */
    failNext(count: number) {
      failures = count;
    },
    /** Leaves the next attempt unanswered until the returned function is called. */
    holdNext(): () => void {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    /** The answered attempts for a message. */
    of: (messageId: string) => attempts.filter((attempt) => attempt.messageId === messageId),
    /** Resolves once `done()` holds, checked after every attempt; fails after WAIT_MS. */
    until: (done: () => boolean, what: string) => until(events, 'attempt', done, what),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

onEachDatabase('message webhook (SPEC §5.4)', (database) => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let server: TestServer;
  let alice: Auth;
  let sessionId: string;
  before(async () => {
    receiver = await startReceiver();
    server = await startServer({ MESSAGE_WEBHOOK_URL: receiver.url, MESSAGE_WEBHOOK_SECRET: SECRET, MESSAGE_WEBHOOK_RETRY_MS: '50' }, database);
    alice = (await userAuth(server, 'alice')).auth;
    sessionId = await startConversation(server, alice, []);
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  async function post(auth: Auth, body: Record<string, unknown>, status = 201): Promise<{ id: string; seq: number }> {
    const res = await postMessage(server, auth, sessionId, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    return res.body as { id: string; seq: number };
  }

  /** Posts a user message and waits for its delivery: every earlier delivery has had its chance by then. */
  async function sentinel(): Promise<void> {
    const { id } = await post(alice, { content: 'sentinel' });
    await receiver.until(() => receiver.of(id).some((attempt) => attempt.status === 200), 'the sentinel message');
  }

  it('delivers each user message once, as signed JSON: X-Tessera-Signature is sha256= the HMAC-SHA256 of the raw body', async () => {
    const posted: Array<{ id: string; seq: number }> = [];
    for (const content of ['one', 'two', 'three']) posted.push(await post(alice, { content }));
    const withNonce = await post(alice, { content: 'four', nonce: 'n-4' });
    expect((await post(alice, { content: 'four again', nonce: 'n-4' }, 200)).id).to.equal(withNonce.id);
    await receiver.until(() => posted.every((message) => receiver.of(message.id).length > 0), 'three deliveries');
    await sentinel();
    for (const message of posted) {
      const [attempt, ...extra] = receiver.of(message.id);
      expect(extra, `copies of message ${message.seq}`).to.deep.equal([]);
      expect(attempt).to.include({ method: 'POST', path: '/hook', status: 200 });
      expect(attempt!.headers['content-type']).to.match(/^application\/json/);
      expect(attempt!.headers['x-tessera-signature']).to.equal(hmac(attempt!.raw));
      expect(JSON.parse(attempt!.raw).message).to.deep.equal(message);
      expect(JSON.parse(attempt!.raw), 'the tenant of the message (SPEC 5.4)').to.include({ event: 'message.created', tenant_id: 'default' });
    }
    expect(receiver.of(withNonce.id), 'a repeated nonce is not sent again').to.have.length(1);
  });

  it('retries a receiver that fails twice and delivers on the third attempt, while the POST answered 201 at once', async () => {
    receiver.failNext(2);
    const release = receiver.holdNext();
    const res = await postMessage(server, alice, sessionId, { content: 'needs three tries' });
    expect(res.status, 'answered while the webhook is still unanswered').to.equal(201);
    release();
    const id = res.body.id as string;
    await receiver.until(() => receiver.of(id).length >= 3, 'the third attempt');
    const attempts = receiver.of(id);
    expect(attempts.map((attempt) => attempt.status)).to.deep.equal([500, 500, 200]);
    for (const attempt of attempts) {
      expect(attempt.raw).to.equal(attempts[0]!.raw);
      expect(attempt.headers['x-tessera-signature']).to.equal(hmac(attempt.raw));
    }
    await sentinel();
    expect(receiver.of(id), 'no attempt after the success').to.have.length(3);
  });

  it('does not send messages posted by a push client (role assistant)', async () => {
    const service = await clientAuth(server, 'push');
    const { id } = await post(service.auth, { content: 'I am the bot' });
    await sentinel();
    expect(receiver.of(id)).to.deep.equal([]);
    expect(receiver.attempts.filter((attempt) => attempt.role !== 'user')).to.deep.equal([]);
  });

  describe('with an unreachable webhook URL', () => {
    let offline: TestServer;
    const warnings: Array<{ msg: string; message_id?: string }> = [];
    const logEvents = new EventEmitter();
    before(async () => {
      const url = `http://127.0.0.1:${await closedPort()}/hook`;
      const logger = createLogger('warn', { write: (line: string) => void (warnings.push(JSON.parse(line)), logEvents.emit('line')) });
      offline = await startServer({ MESSAGE_WEBHOOK_URL: url, MESSAGE_WEBHOOK_SECRET: SECRET, MESSAGE_WEBHOOK_RETRY_MS: '50' }, database, { logger });
    });
    after(() => offline.close());

    it('answers every message POST with 201, stores the messages, and logs each failed delivery once it gives up', async () => {
      const { auth } = await userAuth(offline, 'bob');
      const responses = [];
      for (const n of [1, 2, 3, 4, 5]) responses.push(await postMessage(offline, auth, 'offline-session', { content: `message ${n}` }));
      expect(responses.map((res) => res.status)).to.deep.equal([201, 201, 201, 201, 201]);
      const read = await offline.request.get('/messages/offline-session').set(auth);
      expect(read.body.map((m: { seq: number }) => m.seq)).to.deep.equal([1, 2, 3, 4, 5]);
      const failed = () => warnings.filter((line) => line.msg === 'webhook delivery failed').map((line) => line.message_id);
      await until(logEvents, 'line', () => failed().length >= 5, 'five failed deliveries in the log');
      expect(failed()).to.have.members(responses.map((res) => res.body.id as string));
    });
  });
});

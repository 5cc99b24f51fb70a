import { expect } from 'chai';
import { decodeJwt } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';
import { clientOf, recordingWebSocket, type Frame } from './support';

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const nonces of ['off', 'on'] as const) describe(`tessera/client with dpop: true (DPOP_NONCES=${nonces})`, () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ DPOP_NONCES: nonces });
    await signup(server, 'alice');
  });
  after(async () => {
    await server.close();
  });

  it('gets bound tokens and sends a proof with every request, retrying once when the server wants its nonce', async () => {
    const { client, calls, store } = clientOf(server, { dpop: true });
    await client.login('alice', PASSWORD);
    const tokens = (await store.get())!;
    expect(decodeJwt(tokens.access_token).claims.cnf).to.have.property('jkt').that.is.a('string');
    expect((await client.me()).username).to.equal('alice');
    expect((await client.tasks.create({ title: 'bound' })).title).to.equal('bound');
    // The bound token is of no use without the key.
    expect((await server.request.get('/me').set('Authorization', `Bearer ${tokens.access_token}`)).status).to.equal(401);
    const refused = calls.filter((call) => call.status === 400 || call.status === 401).length;
    expect(refused).to.equal(nonces === 'on' ? 1 : 0); // the first proof, made before any nonce was known
    await client.refresh(tokens.access_token);
    expect((await client.me()).username).to.equal('alice');
  });

  it('opens the socket with a ticket made with DPoP and renews it in band with a proof', async () => {
    const urls: string[] = [];
    const frames: Frame[] = [];
    // Tokens of 4 s: token_expiring comes at once, and the client renews halfway through what is left.
    const shortLived = await startServer({ DPOP_NONCES: nonces, ACCESS_TOKEN_TTL: '4' });
    await signup(shortLived, 'alice');
    const { client } = clientOf(shortLived, { dpop: true, WebSocket: recordingWebSocket(urls, frames) });
    await client.login('alice', PASSWORD);
    const socket = client.socket();
    try {
      await until('open socket', () => socket.state === 'open');
      expect(urls[0]).to.match(/\?ticket=/);
      await until('auth_ok', () => frames.some((frame) => frame.type === 'auth_ok'));
      expect(frames.filter((frame) => frame.type === 'error')).to.deep.equal([]);
    } finally {
      socket.close();
      await shortLived.close();
    }
  });
});

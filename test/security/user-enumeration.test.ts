import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';
import { call, type Answer } from './support';

const TRIES = 10;

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  path: '/token',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const passwordGrant = (server: TestServer, username: string, password = 'not the password') =>
  call(server, form({ grant_type: 'password', username, password }));

/** What an attacker can compare between two answers: status, body, and every header but the per-request ones. */
function observable(answer: Answer): unknown {
  const { date: _date, 'x-request-id': _id, ...headers } = answer.headers;
  return { status: answer.status, body: answer.body, headers };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('attack: user enumeration through POST /token', () => {
  let server: TestServer;

  before(async () => {
    // A real cost (scrypt N = 2^14), so a skipped hash would show in the timings; no limits, to measure only the grant.
    server = await startServer({ PASSWORD_HASH_COST: '14', RATE_LIMITS: 'off' });
    await signup(server, 'alice');
    await signup(server, 'mallory');
    const { users, tenantId } = server.tessera.services;
    await users.setDisabled((await users.queries.findByUsername(tenantId, 'mallory'))!, true);
  });
  after(() => server.close());

  it('answers an unknown user, a wrong password and a disabled user with the same status, headers and body', async () => {
    const wrongPassword = observable(await passwordGrant(server, 'alice'));
    expect(observable(await passwordGrant(server, 'nobody'))).to.deep.equal(wrongPassword);
    expect(observable(await passwordGrant(server, 'mallory', PASSWORD))).to.deep.equal(wrongPassword);
    expect((wrongPassword as { status: number }).status).to.equal(400);
  });

  it('answers the same whatever the letter case or form of an unknown name', async () => {
    const reference = observable(await passwordGrant(server, 'alice'));
    for (const username of ['ALICE', 'nobody', 'n'.repeat(256), "alice' --"]) {
      expect(observable(await passwordGrant(server, username)), username).to.deep.equal(reference);
    }
  });

  it('spends a password hash on unknown users too: their median time is within 0.5–2× that of a wrong password', async function () {
    this.timeout(30_000);
    const timed = async (username: string) => {
      const started = process.hrtime.bigint();
      expect((await passwordGrant(server, username)).status).to.equal(400);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    // Warm both paths first (the dummy hash is made on first use), then interleave so drift hits both alike.
    await timed('alice');
    await timed('nobody');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < TRIES; i += 1) {
      known.push(await timed('alice'));
      unknown.push(await timed(`nobody${i}`));
    }
    const ratio = median(unknown) / median(known);
    expect(ratio, `median unknown ${median(unknown).toFixed(1)} ms / wrong password ${median(known).toFixed(1)} ms`).to.be.within(0.5, 2);
  });
});

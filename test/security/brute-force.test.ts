import { expect } from 'chai';
import type { Environment } from '../../src/config';
import { startServer, type TestServer } from '../support/server';
import { PASSWORD, signup } from '../support/users';
import { call, expectErrorShape, type Answer } from './support';

const ATTACKER = '203.0.113.66';
const VICTIM = '198.51.100.7';

/** A password grant from `ip` (TRUST_PROXY=true, so X-Forwarded-For names the client), as a form or as JSON. */
function grant(server: TestServer, ip: string, username: string, password: string, encoding: 'form' | 'json' = 'form'): Promise<Answer> {
  const fields = { grant_type: 'password', username, password };
  return call(server, {
    method: 'POST',
    path: '/token',
    headers: { 'X-Forwarded-For': ip, 'Content-Type': encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: encoding === 'form' ? new URLSearchParams(fields).toString() : JSON.stringify(fields),
  });
}

function expectThrottled(answer: Answer): void {
  expect(answer.status, answer.text).to.equal(429);
  expectErrorShape(answer, 'throttled');
  expect((answer.body as { error: string }).error).to.equal('rate_limited');
  expect(Number(answer.headers['retry-after'])).to.be.above(0);
}

async function withServer(env: Environment, users: string[], test: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer({ TRUST_PROXY: 'true', ...env });
  try {
    for (const username of users) await signup(server, username);
    await test(server);
  } finally {
    await server.close();
  }
}

describe('attack: password brute force', () => {
  it('throttles guesses at one username from one IP, then refuses even the right password from there', () =>
    withServer({ RATE_LIMIT_LOGIN_FAILURES: '5' }, ['alice'], async (server) => {
      for (let i = 0; i < 5; i += 1) expect((await grant(server, ATTACKER, 'alice', `guess-${i}-guess`)).status).to.equal(400);
      expectThrottled(await grant(server, ATTACKER, 'alice', 'guess-6-guess'));
      expectThrottled(await grant(server, ATTACKER, 'alice', PASSWORD));
    }));

  it('counts guesses in either body encoding and any letter case against one counter', () =>
    withServer({ RATE_LIMIT_LOGIN_FAILURES: '4' }, ['alice'], async (server) => {
      const attempts: Array<['form' | 'json', string]> = [['form', 'alice'], ['json', 'ALICE'], ['form', 'Alice'], ['json', 'aLiCe']];
      for (const [encoding, username] of attempts) expect((await grant(server, ATTACKER, username, 'wrong-password', encoding)).status).to.equal(400);
      expectThrottled(await grant(server, ATTACKER, 'alice', 'wrong-password', 'json'));
    }));

  it('does not lock the victim out: the right password still works from another IP', () =>
    withServer({ RATE_LIMIT_LOGIN_FAILURES: '3' }, ['alice'], async (server) => {
      for (let i = 0; i < 4; i += 1) await grant(server, ATTACKER, 'alice', 'wrong-password');
      expectThrottled(await grant(server, ATTACKER, 'alice', PASSWORD));
      expect((await grant(server, VICTIM, 'alice', PASSWORD)).status).to.equal(200);
    }));

  it('throttles password spraying (one guess at many usernames) per IP, and not other IPs', () =>
    withServer({ RATE_LIMIT_TOKEN_PER_MINUTE: '8' }, ['alice'], async (server) => {
      for (let i = 0; i < 8; i += 1) expect((await grant(server, ATTACKER, `user${i}`, PASSWORD)).status).to.equal(400);
      expectThrottled(await grant(server, ATTACKER, 'user8', PASSWORD));
      expectThrottled(await grant(server, ATTACKER, 'alice', PASSWORD));
      expect((await grant(server, VICTIM, 'alice', PASSWORD)).status).to.equal(200);
    }));

  it('does not count a failed guess as a success when many run at once', () =>
    withServer({ RATE_LIMIT_LOGIN_FAILURES: '5' }, ['alice'], async (server) => {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => grant(server, ATTACKER, 'alice', `parallel-${i}-guess`)));
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses.filter((status) => status === 400)).to.have.length(5);
      expect(statuses.filter((status) => status === 429)).to.have.length(7);
    }));
});

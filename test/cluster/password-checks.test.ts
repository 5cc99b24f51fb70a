import { expect } from 'chai';
import type { Response } from 'supertest';
import { expectError } from '../support/expectations';
import { PASSWORD } from '../support/users';
import { bearer, newUser, passwordGrant, twoNodesPerSuite, type Node } from './support';

const LOGIN_FAILURES = 4;
const GUESSES = 14;
const WRONG = 'not the password';

function expectRateLimited(res: Response, what: string): void {
  expectError(res, 429, 'rate_limited');
  expect(Number(res.headers['retry-after']), what).to.be.above(0);
}

describe('cluster: wrong current passwords of account changes count as failed logins in the whole cluster (SPEC §9)', () => {
  const twoNodes = twoNodesPerSuite({ RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES) });

  const changePassword = (node: Node, token: string, current: string) =>
    node.request.post('/me/password').set(bearer(token)).send({ current_password: current, new_password: 'a brand new password' });
  const enrol = (node: Node, token: string, password: string) => node.request.post('/me/2fa').set(bearer(token)).send({ password });

  it('answers 429 on both nodes after RATE_LIMIT_LOGIN_FAILURES wrong guesses split between them, to the right password too', async () => {
    const { node1, node2 } = twoNodes;
    const { access_token: token } = await newUser(node1, 'alice');
    const statuses: number[] = [];
    for (let i = 0; i < GUESSES; i += 1) {
      const node = i % 2 === 0 ? node1 : node2;
      const res = await (i % 4 < 2 ? changePassword(node, token, WRONG) : enrol(node, token, WRONG));
      if (res.status === 403) expectError(res, 403, 'forbidden');
      else expectRateLimited(res, `guess ${i + 1} on ${node.name}`);
      statuses.push(res.status);
    }
    expect(statuses).to.deep.equal([...Array<number>(LOGIN_FAILURES).fill(403), ...Array<number>(GUESSES - LOGIN_FAILURES).fill(429)]);
    for (const node of [node1, node2]) {
      expectRateLimited(await changePassword(node, token, PASSWORD), `the right password on ${node.name}`);
      expectRateLimited(await enrol(node, token, PASSWORD), `enrolment with the right password on ${node.name}`);
      expectRateLimited(await passwordGrant(node, 'alice'), `the password grant on ${node.name}`);
    }
    expect((await node2.request.get('/me/2fa').set(bearer(token))).body).to.deep.include({ enabled: false, pending: false });
  });
});

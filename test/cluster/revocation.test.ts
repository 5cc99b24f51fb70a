import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { sessionIdOf } from '../support/oauth';
import { bearer, expectRefusedWithinASecond, login, newUser, refreshGrant, REVOCATION_MS, twoNodesPerSuite } from './support';

describe('cluster: revocation across processes (PostgreSQL + Redis)', () => {
  // A grace of 0: any replay of a rotated refresh token is reuse (SPEC §3.2).
  const twoNodes = twoNodesPerSuite({ REFRESH_REUSE_GRACE: '0' });
  before(() => newUser(twoNodes.node1, 'alice'));

  it("closes alice's socket on node 2 with 4003 and refuses her token there within 1 s of a logout on node 1", async () => {
    const { cluster, node1, node2 } = twoNodes;
    const tokens = await login(node1, 'alice');
    const socket = await cluster.connect(node2, 'alice', { token: tokens.access_token });
    expect((await node2.request.get('/me').set(bearer(tokens.access_token))).status).to.equal(200);

    const logout = await node1.request.post('/logout').set(bearer(tokens.access_token));
    expect(logout.status, JSON.stringify(logout.body)).to.equal(204);

    const [closed] = await Promise.all([socket.waitForClose(REVOCATION_MS), expectRefusedWithinASecond(node2, tokens.access_token)]);
    expect(closed.code).to.equal(4003);
  });

  it('revokes the whole session when a refresh token rotated on node 1 is replayed on node 2 after the grace', async () => {
    const { cluster, node1, node2 } = twoNodes;
    const first = await login(node1, 'alice');
    const rotated = await refreshGrant(node1, first.refresh_token);
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
    const socket = await cluster.connect(node1, 'alice', { token: rotated.body.access_token as string });

    expectError(await refreshGrant(node2, first.refresh_token), 400, 'invalid_grant');

    const everyTokenRefusedEverywhere = async () => {
      for (const node of [node1, node2]) {
        for (const token of [first.access_token, rotated.body.access_token as string]) await expectRefusedWithinASecond(node, token);
      }
    };
    const [closed] = await Promise.all([socket.waitForClose(REVOCATION_MS), everyTokenRefusedEverywhere()]);
    expect(closed.code).to.equal(4003);
    expectError(await refreshGrant(node1, rotated.body.refresh_token as string), 400, 'invalid_grant');
    const session = await cluster.db('sessions').where({ id: sessionIdOf(first.access_token) }).first();
    expect(session).to.include({ revoked_reason: 'refresh_token_reuse' });
    expect(session.revoked_at).to.be.a('number');
  });
});

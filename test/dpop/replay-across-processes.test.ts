import { expect } from 'chai';
import { ISSUER, twoNodesPerSuite, type Node } from '../cluster/support';
import { PASSWORD } from '../support/users';
import { expectDpopChallenge, expectTokenRefusal, newKey, proof, type ProofKey } from './support';

// Two `tessera serve` processes on one PostgreSQL schema and one Redis prefix (SPEC §11: proof jtis are
// remembered across processes). Proofs name the public URL (ISSUER), whichever process receives them.
describe('DPoP proofs replayed to another process are refused (Redis)', function () {
  this.timeout(30_000);
  const nodes = twoNodesPerSuite({ RATE_LIMITS: 'off', DPOP_NONCES: 'on' });
  let key: ProofKey;
  let accessToken: string;

  /** The nonce a node hands out, from its use_dpop_nonce answer to a proof without one. */
  async function nonceFrom(node: Node): Promise<string> {
    const res = await node.request.post('/token').type('form').set('DPoP', await proof(key, { htm: 'POST', htu: `${ISSUER}/token` })).send({ grant_type: 'password', username: 'alice', password: PASSWORD });
    expectTokenRefusal(res, 'use_dpop_nonce');
    return res.headers['dpop-nonce'] as string;
  }

  before(async () => {
    key = await newKey();
    const { node1 } = nodes;
    expect((await node1.request.post('/signup').send({ username: 'alice', password: PASSWORD })).status).to.equal(201);
    const res = await node1.request
      .post('/token')
      .type('form')
      .set('DPoP', await proof(key, { htm: 'POST', htu: `${ISSUER}/token`, nonce: await nonceFrom(node1) }))
      .send({ grant_type: 'password', username: 'alice', password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    accessToken = res.body.access_token as string;
  });

  it('accepts a nonce one process handed out at the other', async () => {
    const { node1, node2 } = nodes;
    const dpop = await proof(key, { htu: `${ISSUER}/me`, token: accessToken, nonce: await nonceFrom(node1) });
    const res = await node2.request.get('/me').set({ Authorization: `DPoP ${accessToken}`, DPoP: dpop });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.headers['dpop-nonce']).to.be.a('string');
  });

  it('refuses at one process a proof the other accepted', async () => {
    const { node1, node2 } = nodes;
    const headers = { Authorization: `DPoP ${accessToken}`, DPoP: await proof(key, { htu: `${ISSUER}/me`, token: accessToken, nonce: await nonceFrom(node2) }) };
    expect((await node1.request.get('/me').set(headers)).status).to.equal(200);
    expectDpopChallenge(await node2.request.get('/me').set(headers), 'invalid_dpop_proof');
    expectDpopChallenge(await node1.request.get('/me').set(headers), 'invalid_dpop_proof');
  });
});

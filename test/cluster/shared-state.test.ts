import { expect } from 'chai';
import { hashRefreshToken } from '../../src/oauth/refresh-tokens';
import { CLI_TIMEOUT_MS, CliWorkspace } from '../cli/cli-process';
import { expectError } from '../support/expectations';
import { decodeJwt, sessionIdOf } from '../support/oauth';
import { PASSWORD } from '../support/users';
import { bearer, login, newUser, passwordGrant, refreshGrant, twoNodesPerSuite, type Node } from './support';

const LOGIN_FAILURES = 4;
const CONCURRENT_REFRESHES = 20;

describe('cluster: state shared by the processes (PostgreSQL + Redis)', () => {
  // Started together on an empty schema: both migrate, both find no admin and no key (SPEC §1).
  const twoNodes = twoNodesPerSuite({ RATE_LIMIT_LOGIN_FAILURES: String(LOGIN_FAILURES), ADMIN_USERNAME: 'root', ADMIN_PASSWORD: PASSWORD });
  before(async () => {
    await newUser(twoNodes.node1, 'alice');
    await newUser(twoNodes.node2, 'carol');
  });

  it('comes up on both nodes, started together on an empty database, with one admin between them', async () => {
    const { cluster, node1, node2 } = twoNodes;
    for (const node of [node1, node2]) {
      const ready = await node.request.get('/readyz');
      expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
      expect(ready.body.checks).to.deep.equal({ database: 'ok', redis: 'ok', redis_pubsub: 'ok' });
      expect((await login(node, 'root', 'admin')).scope).to.equal('admin');
    }
    expect(await cluster.db('users').where({ username: 'root' })).to.have.length(1);
  });

  it('never forks a session under 20 concurrent refreshes of one token split across both nodes', async () => {
    const { cluster, node1, node2 } = twoNodes;
    const tokens = await login(node1, 'alice');
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT_REFRESHES }, (_, i) => refreshGrant(i % 2 === 0 ? node1 : node2, tokens.refresh_token)),
    );
    for (const res of responses) expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const successors = [...new Set(responses.map((res) => res.body.refresh_token as string))];
    expect(successors, 'distinct successor refresh tokens').to.have.length(1);
    const successor = successors[0] as string;
    expect(successor).to.not.equal(tokens.refresh_token);

    const rows = await cluster.db('refresh_tokens').where({ session_id: sessionIdOf(tokens.access_token) });
    const unrotated = rows.filter((row: { rotated_at: number | null }) => row.rotated_at === null);
    expect(rows, 'refresh tokens of the session').to.have.length(2);
    expect(unrotated).to.have.length(1);
    expect(unrotated[0].token_hash).to.equal(hashRefreshToken(successor));
    expect((await refreshGrant(node2, successor)).status, 'the successor still refreshes').to.equal(200);
  });

  it('counts failed logins for a username in the whole cluster: two on each node, then 429 on either', async () => {
    const { node1, node2 } = twoNodes;
    const wrong = (node: Node) => passwordGrant(node, 'carol', 'not the password');
    for (const node of [node1, node1, node2, node2]) expectError(await wrong(node), 400, 'invalid_grant');
    for (const node of [node1, node2]) {
      const res = await wrong(node);
      expectError(res, 429, 'rate_limited');
      expect(Number(res.headers['retry-after'])).to.be.above(0);
    }
  });

  it('counts unknown-member answers of a user in the whole cluster: ten on each node, then 429 on either (SPEC §9)', async () => {
    const { node1, node2 } = twoNodes;
    const dave = await newUser(node1, 'dave');
    const start = (node: Node, name: string) => node.request.post('/conversations').set(bearer(dave.access_token)).send({ members: [name] });
    for (let i = 0; i < 20; i += 1) expectError(await start(i % 2 === 0 ? node1 : node2, `ghost${i}`), 422, 'validation_failed');
    for (const node of [node1, node2]) {
      const res = await start(node, 'ghost');
      expectError(res, 429, 'rate_limited');
      expect(Number(res.headers['retry-after'])).to.be.above(0);
    }
  });

  it('accepts on node 2 right away a token signed on node 1 with a key rotated there', async () => {
    const { node1, node2 } = twoNodes;
    const before = await login(node1, 'alice');
    const admin = await login(node1, 'root', 'admin');
    const rotated = await node1.request.post('/admin/keys/rotate').set(bearer(admin.access_token));
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(201);
    const kid = rotated.body.kid as string;
    expect(decodeJwt(before.access_token).header.kid).to.not.equal(kid);

    const after = await login(node1, 'alice');
    expect(decodeJwt(after.access_token).header.kid).to.equal(kid);
    expect((await node2.request.get('/me').set(bearer(after.access_token))).status).to.equal(200);
    // The retired key stays published until its tokens expire (SPEC §3.4).
    expect((await node2.request.get('/me').set(bearer(before.access_token))).status).to.equal(200);
    const jwks = await node2.request.get('/.well-known/jwks.json');
    expect((jwks.body.keys as Array<{ kid: string }>).map((key) => key.kid)).to.include.members([kid, decodeJwt(before.access_token).header.kid as string]);
  });

  it('rotates the key with `tessera keys rotate` in the environment of the nodes (REDIS_URL set) and exits 0', async function () {
    const { cluster } = twoNodes;
    this.timeout(2 * CLI_TIMEOUT_MS + 5_000);
    const workspace = new CliWorkspace();
    try {
      const rotated = await workspace.run(['keys', 'rotate'], { env: cluster.env });
      expect(rotated.code, rotated.stderr).to.equal(0);
      const kid = /new signing key (\S+);/.exec(rotated.stdout)?.[1];
      expect(kid, rotated.stdout).to.be.a('string');
      const listed = await workspace.run(['keys', 'list', '--json'], { env: cluster.env });
      expect(listed.code, listed.stderr).to.equal(0);
      const signing = (JSON.parse(listed.stdout) as Array<{ kid: string; alg: string; state: string }>).filter((key) => key.state === 'signing' && key.alg === 'ES256');
      expect(signing.map((key) => key.kid)).to.deep.equal([kid]);
    } finally {
      await workspace.close();
    }
  });
});

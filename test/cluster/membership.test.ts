import { expect } from 'chai';
import type { Frame, Message } from '../gateway/support';
import type { Tokens } from '../support/users';
import { bearer, newUser, startConversation, twoNodesPerSuite, type Node } from './support';

const answerTo = (nonce: string) => (frame: Frame) => (frame.type === 'ack' || frame.type === 'error') && frame.nonce === nonce;

describe('cluster: conversation members change on every process at once (PostgreSQL + Redis)', () => {
  const twoNodes = twoNodesPerSuite();
  const tokens: Record<string, Tokens> = {};

  before(async () => {
    for (const username of ['alice', 'bob', 'carol']) tokens[username] = await newUser(twoNodes.node1, username);
  });

  const post = (node: Node, as: string, id: string, content: string) => node.request.post(`/messages/${id}`).set(bearer(tokens[as]!.access_token)).send({ content });

  it('lets an added member post on either process with the very next message, and refuses a removed one there at once', async () => {
    const { node1, node2 } = twoNodes;
    const id = await startConversation(node1, tokens.alice!.access_token, ['bob']);
    // Both processes cache the members as they are: bob in, carol out.
    for (const node of [node1, node2]) {
      expect((await post(node, 'bob', id, `bob on ${node.name}`)).status).to.equal(201);
      expect((await post(node, 'carol', id, `carol on ${node.name}`)).status).to.equal(404);
    }
    const added = await node1.request.post(`/conversations/${id}/members`).set(bearer(tokens.alice!.access_token)).send({ members: ['carol'] });
    expect(added.status, JSON.stringify(added.body)).to.equal(200);
    for (const node of [node2, node1]) expect((await post(node, 'carol', id, `carol added, on ${node.name}`)).status, node.name).to.equal(201);

    const left = await node2.request.delete(`/conversations/${id}/members/bob`).set(bearer(tokens.bob!.access_token));
    expect(left.status).to.equal(204);
    for (const node of [node1, node2]) expect((await post(node, 'bob', id, `bob gone, on ${node.name}`)).status, node.name).to.equal(404);
    const stored = await twoNodes.cluster.db('messages').where({ conversation_id: id }).orderBy('seq').select('seq', 'content');
    expect(stored.map((row: { seq: number | string }) => Number(row.seq))).to.deep.equal([1, 2, 3, 4]);
  });

  it("delivers to a member's socket on the other process from the next message on, and no longer to a removed member's", async () => {
    const { cluster, node1, node2 } = twoNodes;
    const id = await startConversation(node1, tokens.alice!.access_token, ['bob']);
    const [alice, bob, carol] = [
      await cluster.connect(node1, 'alice', { token: tokens.alice!.access_token }),
      await cluster.connect(node2, 'bob', { token: tokens.bob!.access_token }),
      await cluster.connect(node2, 'carol', { token: tokens.carol!.access_token }),
    ];
    alice.send({ type: 'message', session_id: id, content: 'before', nonce: 'before' });
    await bob.waitFor((frame) => frame.type === 'message');
    expect((await node2.request.post(`/conversations/${id}/members`).set(bearer(tokens.bob!.access_token)).send({ members: ['carol'] })).status).to.equal(200);
    expect((await node1.request.delete(`/conversations/${id}/members/bob`).set(bearer(tokens.alice!.access_token))).status).to.equal(204);
    alice.send({ type: 'message', session_id: id, content: 'after', nonce: 'after' });
    expect((await alice.waitFor(answerTo('after'))).type).to.equal('ack');
    carol.send({ type: 'message', session_id: id, content: 'carol speaks', nonce: 'carol' });
    expect((await carol.waitFor(answerTo('carol'))).type).to.equal('ack');
    expect((await carol.waitFor((frame) => frame.type === 'message')).message).to.include({ content: 'after' });
    // alice hears carol after 'after': had bob been sent 'after', it would have reached him by now.
    await alice.waitFor((frame) => frame.type === 'message' && (frame.message as Message).content === 'carol speaks');
    await bob.expectServed();
    expect(bob.messages().map((message) => message.content)).to.deep.equal(['before']);
  });
});

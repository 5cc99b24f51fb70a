import { expect } from 'chai';
import type { Frame, Message, TestSocket } from '../gateway/support';
import type { Tokens } from '../support/users';
import { bearer, newUser, startConversation, twoNodesPerSuite } from './support';

const BURST = 20;

const messageWith = (content: string) => (frame: Frame) => frame.type === 'message' && (frame.message as Message).content === content;

describe('cluster: delivery across processes (PostgreSQL + Redis)', () => {
  const twoNodes = twoNodesPerSuite();
  let alice: Tokens;
  let bob: Tokens;
  let conversation: string;

  before(async () => {
    alice = await newUser(twoNodes.node1, 'alice');
    bob = await newUser(twoNodes.node2, 'bob');
    conversation = await startConversation(twoNodes.node1, alice.access_token, ['bob']);
  });

  it("delivers a burst sent on node 1's socket to the members' sockets on node 2 exactly once, in seq order", async () => {
    const { cluster, node1, node2 } = twoNodes;
    const sender = await cluster.connect(node1, 'alice', { token: alice.access_token });
    const receivers: TestSocket[] = [
      await cluster.connect(node2, 'bob', { token: bob.access_token }),
      // SPEC §6: the sender's other sockets get the message too, wherever they are.
      await cluster.connect(node2, 'alice', { token: alice.access_token }),
    ];
    const contents = Array.from({ length: BURST }, (_, i) => `burst ${i}`);
    contents.forEach((content, i) => sender.send({ type: 'message', session_id: conversation, content, nonce: `burst-${i}` }));
    await sender.waitForCount((frame) => frame.type === 'ack', BURST);
    // A last message after every ack: node 1 published the burst before it, so a late copy would arrive before it too.
    sender.send({ type: 'message', session_id: conversation, content: 'last', nonce: 'last' });
    for (const socket of receivers) await socket.waitFor(messageWith('last'));

    for (const socket of receivers) {
      const received = socket.messages();
      expect(received.map((message) => message.seq)).to.deep.equal(Array.from({ length: BURST + 1 }, (_, i) => i + 1));
      expect(received.slice(0, BURST).map((message) => message.content)).to.have.members(contents);
      expect(received.every((message) => message.sender === 'alice' && message.session_id === conversation)).to.equal(true);
    }
    expect(sender.ofType('message'), 'the sending socket gets acks, not copies').to.deep.equal([]);
  });

  it('delivers a message posted through REST on node 2 to a socket on node 1', async () => {
    const { cluster, node1, node2 } = twoNodes;
    const socket = await cluster.connect(node1, 'alice', { token: alice.access_token });
    const res = await node2.request.post(`/messages/${conversation}`).set(bearer(bob.access_token)).send({ content: 'from the other side' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const frame = await socket.waitFor(messageWith('from the other side'));
    expect(frame.message).to.deep.equal(res.body);
  });

  it('opens a socket on node 2 with a ticket issued on node 1, and refuses that ticket on node 1 afterwards', async () => {
    const { cluster, node1, node2 } = twoNodes;
    const issued = await node1.request.post('/ws/ticket').set(bearer(bob.access_token));
    expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
    const ticket = issued.body.ticket as string;

    const socket = await cluster.connect(node2, 'bob', { ticket });
    expect(socket.frames[0]).to.include({ type: 'welcome', username: 'bob' });
    await socket.expectServed();

    const again = await cluster.attemptSocket(node1, 'bob', { ticket });
    expect(again.socket, 'a second socket from the same ticket').to.equal(undefined);
    expect(again.status).to.equal(401);
  });
});

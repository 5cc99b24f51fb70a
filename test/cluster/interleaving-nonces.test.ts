import { expect } from 'chai';
import { sendTogether, type Frame } from '../gateway/support';
import type { Tokens } from '../support/users';
import { newUser, startConversation, twoNodesPerSuite } from './support';

const ROUNDS = 20;
const PADDING = 60; // messages between a batch's two repeated nonces, so the two inserts overlap
const isAnswer = (frame: Frame) => frame.type === 'ack' || frame.type === 'error';

describe('cluster: two processes storing the same nonces in opposite order (PostgreSQL + Redis)', () => {
  // Frames far above what the test sends: the socket's frame rate is not what is tested.
  const twoNodes = twoNodesPerSuite({ WS_FRAMES_PER_SECOND: '10000' });
  const tokens: Record<string, Tokens> = {};

  before(async () => {
    for (const username of ['alice', 'bob', 'dave']) tokens[username] = await newUser(twoNodes.node1, username);
  });

  it("acks every message (each repeated nonce with the one stored message), and the batches of other users beside them, without a deadlock's error", async () => {
    const { cluster, node1, node2 } = twoNodes;
    const [x, y] = [await startConversation(node1, tokens.alice!.access_token, []), await startConversation(node1, tokens.alice!.access_token, [])];
    const [bobs, daves] = [await startConversation(node1, tokens.bob!.access_token, []), await startConversation(node1, tokens.dave!.access_token, [])];
    const alice1 = await cluster.connect(node1, 'alice', { token: tokens.alice!.access_token });
    const alice2 = await cluster.connect(node2, 'alice', { token: tokens.alice!.access_token });
    const bob = await cluster.connect(node1, 'bob', { token: tokens.bob!.access_token });
    const dave = await cluster.connect(node2, 'dave', { token: tokens.dave!.access_token });
    const message = (sessionId: string, nonce: string, content = nonce) => ({ type: 'message', session_id: sessionId, content, nonce });
    for (let round = 0; round < ROUNDS; round += 1) {
      const [p, q] = [`p${round}`, `q${round}`];
      const padding = (sessionId: string) => Array.from({ length: PADDING }, (_, i) => message(sessionId, `${sessionId}-${round}-${i}`, 'k'.repeat(8_000)));
      // Node 1 inserts p then q, node 2 q then p, at the same time; bob's and dave's posts share their batches.
      sendTogether(alice1, [message(x, p), ...padding(x), message(x, q)]);
      sendTogether(alice2, [message(y, q), ...padding(y), message(y, p)]);
      bob.send(message(bobs, `b${round}`));
      dave.send(message(daves, `d${round}`));
      for (const [socket, count] of [[alice1, PADDING + 2], [alice2, PADDING + 2], [bob, 1], [dave, 1]] as const) {
        const answers = await socket.waitForCount(isAnswer, count * (round + 1), { timeoutMs: 20_000 });
        expect(answers.filter((frame) => frame.type !== 'ack'), `round ${round}`).to.deep.equal([]);
      }
    }
    const repeated = await cluster.db('messages').whereIn('conversation_id', [x, y]).whereRaw("nonce ~ '^[pq][0-9]+$'").count<Array<{ count: string }>>({ count: '*' });
    expect(Number(repeated[0]!.count), 'each of p and q stored once a round').to.equal(ROUNDS * 2);
  });
});

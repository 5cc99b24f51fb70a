import { expect } from 'chai';
import type { Frame } from '../gateway/support';
import type { Tokens } from '../support/users';
import { newUser, startConversation, twoNodesPerSuite } from './support';

const PER_SOCKET = 60;

describe('cluster: two processes storing into the same conversations at once (PostgreSQL + Redis)', () => {
  // Frames far above what the test sends: the socket's frame rate is not what is tested.
  const twoNodes = twoNodesPerSuite({ WS_FRAMES_PER_SECOND: '10000' });
  const tokens: Record<string, Tokens> = {};

  before(async () => {
    for (const username of ['alice', 'bob']) tokens[username] = await newUser(twoNodes.node1, username);
  });

  it('interleaves their batches without a gap or a repeat in seq, and acks every message once', async () => {
    const { cluster, node1, node2 } = twoNodes;
    const conversations = [
      await startConversation(node1, tokens.alice!.access_token, ['bob']),
      await startConversation(node2, tokens.bob!.access_token, ['alice']),
    ];
    const senders = [
      await cluster.connect(node1, 'alice', { token: tokens.alice!.access_token }),
      await cluster.connect(node2, 'bob', { token: tokens.bob!.access_token }),
      await cluster.connect(node1, 'bob', { token: tokens.bob!.access_token }),
      await cluster.connect(node2, 'alice', { token: tokens.alice!.access_token }),
    ];
    senders.forEach((socket, s) => {
      for (let i = 0; i < PER_SOCKET; i += 1) {
        const nonce = `s${s}-${i}`;
        socket.send({ type: 'message', session_id: conversations[i % 2], content: nonce, nonce });
      }
    });
    const isAnswer = (frame: Frame) => frame.type === 'ack' || frame.type === 'error';
    for (const socket of senders) {
      const answers = await socket.waitForCount(isAnswer, PER_SOCKET, { timeoutMs: 20_000 });
      expect(answers.filter((frame) => frame.type !== 'ack')).to.deep.equal([]);
    }
    for (const id of conversations) {
      const rows: Array<{ seq: number | string; content: string }> = await cluster.db('messages').where({ conversation_id: id }).orderBy('seq').select('seq', 'content');
      expect(rows.map((row) => Number(row.seq))).to.deep.equal(Array.from({ length: rows.length }, (_, i) => i + 1));
      expect(new Set(rows.map((row) => row.content)).size).to.equal(rows.length);
      expect(rows.length).to.equal((senders.length * PER_SOCKET) / 2);
    }
  });
});

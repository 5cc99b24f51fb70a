import { expect } from 'chai';
import type { BusEvents } from '../../src/bus/bus';
import { Sequencer } from '../../src/gateway/sequencer';
import type { Message } from '../../src/messages/message';

type Created = BusEvents['messages.created'];

const message = (seq: number, sessionId = 'c1'): Message => ({
  id: `${sessionId}-${seq}`,
  session_id: sessionId,
  seq,
  sender: 'alice',
  role: 'user',
  type: 'text',
  content: `m${seq}`,
  timestamp: new Date(0).toISOString(),
});
const event = (seq: number, sessionId = 'c1', origin?: string): Created => ({
  tenantId: 'default',
  memberIds: ['u1'],
  message: message(seq, sessionId),
  ...(origin ? { origin } : {}),
});

const GAP_WAIT_MS = 20;

/** A sequencer over an in-memory "database" holding every stored message. */
function harness(stored: number[]) {
  const delivered: string[] = [];
  const fetches: Array<[number, number]> = [];
  const sequencer = new Sequencer(
    async (_tenant, sessionId, afterSeq, limit) => {
      fetches.push([afterSeq, limit]);
      return stored.filter((seq) => seq > afterSeq).slice(0, limit).map((seq) => message(seq, sessionId));
    },
    (e) => delivered.push(`${e.message.session_id}:${e.message.seq}${e.origin ? `@${e.origin}` : ''}`),
    {
      gapWaitMs: GAP_WAIT_MS,
      onError: (error) => {
        throw error;
      },
    },
  );
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return { sequencer, delivered, fetches, wait };
}

describe('the fan-out sequencer', () => {
  it('passes messages that arrive in order straight through', () => {
    const { sequencer, delivered, fetches } = harness([1, 2, 3]);
    for (const seq of [1, 2, 3]) sequencer.accept(event(seq));
    expect(delivered).to.deep.equal(['c1:1', 'c1:2', 'c1:3']);
    expect(fetches).to.deep.equal([]);
  });

  it('holds a message that overtook its predecessor until the predecessor arrives, keeping its origin', () => {
    const { sequencer, delivered, fetches } = harness([1, 2, 3, 4]);
    sequencer.accept(event(1));
    sequencer.accept(event(3, 'c1', 'socket-b'));
    sequencer.accept(event(2, 'c1', 'socket-a'));
    sequencer.accept(event(4));
    expect(delivered).to.deep.equal(['c1:1', 'c1:2@socket-a', 'c1:3@socket-b', 'c1:4']);
    expect(fetches).to.deep.equal([]);
    sequencer.close();
  });

  it('reads a gap from the database when its announcement never comes', async () => {
    const { sequencer, delivered, fetches, wait } = harness([1, 2, 3, 4]);
    sequencer.accept(event(1));
    sequencer.accept(event(4));
    expect(delivered).to.deep.equal(['c1:1']);
    await wait(GAP_WAIT_MS * 5);
    expect(delivered).to.deep.equal(['c1:1', 'c1:2', 'c1:3', 'c1:4']);
    expect(fetches).to.deep.equal([[1, 2]]);
  });

  it('drops duplicates', () => {
    const { sequencer, delivered } = harness([1, 2]);
    for (const seq of [1, 2, 2, 1]) sequencer.accept(event(seq));
    expect(delivered).to.deep.equal(['c1:1', 'c1:2']);
  });

  it('still delivers a message older than the first one this process saw', () => {
    const { sequencer, delivered } = harness([4, 5]);
    for (const seq of [5, 4]) sequencer.accept(event(seq));
    expect(delivered).to.deep.equal(['c1:5', 'c1:4']);
  });

  it('keeps conversations independent', () => {
    const { sequencer, delivered } = harness([1, 2]);
    sequencer.accept(event(1, 'a'));
    sequencer.accept(event(1, 'b'));
    sequencer.accept(event(2, 'a'));
    expect(delivered).to.deep.equal(['a:1', 'b:1', 'a:2']);
  });
});

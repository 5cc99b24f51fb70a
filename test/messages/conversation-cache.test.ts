import { expect } from 'chai';
import knex, { type Knex } from 'knex';
import { createLocalBus } from '../../src/bus/bus';
import { conversationKey } from '../../src/db/queries/message-batches';
import { ConversationCache, membersOf } from '../../src/messages/conversation-cache';

const members = (count: number, prefix = 'u') => membersOf(1, Array.from({ length: count }, (_, i) => `${prefix}${i}`));

describe('conversation membership cache', () => {
  let db: Knex;
  before(() => {
    // Never queried: these tests only keep and read entries.
    db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
  });
  after(() => db.destroy());

  it('holds at most its number of member ids over all conversations, forgetting the least recently used first', () => {
    const cache = new ConversationCache(db, createLocalBus(), { entries: 100, memberIds: 10 });
    cache.remember('a', members(4));
    cache.remember('b', members(4));
    expect(cache.get('a'), 'a read: now the most recently used').to.exist;
    cache.remember('c', members(4));
    expect(cache.get('b'), 'b forgotten').to.equal(undefined);
    expect(cache.get('a')?.ids).to.have.length(4);
    expect(cache.get('c')?.ids).to.have.length(4);
  });

  it('does not keep a conversation with more members than the whole bound, and keeps the others', () => {
    const cache = new ConversationCache(db, createLocalBus(), { entries: 100, memberIds: 10 });
    cache.remember('small', members(3));
    cache.remember('huge', members(11));
    expect(cache.get('huge')).to.equal(undefined);
    expect(cache.get('small')?.ids).to.have.length(3);
  });

  it('counts a replaced entry once: remembering the same conversation again does not crowd out the others', () => {
    const cache = new ConversationCache(db, createLocalBus(), { entries: 100, memberIds: 10 });
    cache.remember('a', members(5));
    for (let i = 0; i < 5; i += 1) cache.remember('b', members(5, `v${i}-`));
    expect(cache.get('a')?.ids).to.have.length(5);
    expect(cache.get('b')?.ids).to.have.length(5);
  });

  it('holds at most its number of conversations', () => {
    const cache = new ConversationCache(db, createLocalBus(), { entries: 2, memberIds: 100 });
    for (const key of ['a', 'b', 'c']) cache.remember(key, members(1));
    expect(['a', 'b', 'c'].map((key) => cache.get(key) !== undefined)).to.deep.equal([false, true, true]);
  });

  it('forgets a conversation whose members changed, on the bus', () => {
    const bus = createLocalBus();
    const cache = new ConversationCache(db, bus);
    cache.remember(conversationKey('t1', 'c1'), members(2));
    bus.publish('conversations.changed', { tenantId: 't1', conversationId: 'c1' });
    expect(cache.get(conversationKey('t1', 'c1'))).to.equal(undefined);
  });

  it("forgets every conversation of a tenant removed, on the bus, and keeps the other tenants'", () => {
    const bus = createLocalBus();
    const cache = new ConversationCache(db, bus);
    for (const tenant of ['t1', 't10', 't2']) for (const id of ['c1', 'c2']) cache.remember(conversationKey(tenant, id), members(2));
    bus.publish('tenants.changed', { tenantId: 't1', tenant: null });
    const kept = (tenant: string) => ['c1', 'c2'].map((id) => cache.get(conversationKey(tenant, id)) !== undefined);
    expect(kept('t1')).to.deep.equal([false, false]);
    expect(kept('t10')).to.deep.equal([true, true]);
    expect(kept('t2')).to.deep.equal([true, true]);
  });
});

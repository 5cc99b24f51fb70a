import { expect } from 'chai';
import { expectError } from '../support/expectations';
import { postMessage, startConversation, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startSecondProcess, startServer, type TestServer } from '../support/server';

onEachDatabase('conversation members', (database) => {
  let server: TestServer;
  const auth: Record<string, Auth> = {};
  before(async () => {
    server = await startServer({}, database);
    for (const username of ['alice', 'bob', 'carol', 'dave']) auth[username] = (await userAuth(server, username)).auth;
  });
  after(() => server.close());

  const addMembers = (as: string, sessionId: string, members: string[]) => server.request.post(`/conversations/${sessionId}/members`).set(auth[as]!).send({ members });
  const removeMember = (as: string, sessionId: string, username: string) => server.request.delete(`/conversations/${sessionId}/members/${username}`).set(auth[as]!);
  const postAs = (as: string, sessionId: string, content: string) => postMessage(server, auth[as]!, sessionId, { content });

  it('adds members (usernames case-insensitive, present ones kept once) and answers 200 with the conversation; a new member posts and reads at once', async () => {
    const id = await startConversation(server, auth.alice!, ['bob']);
    expectError(await postAs('carol', id, 'not yet'), 404, 'not_found');
    const res = await addMembers('bob', id, ['CAROL', 'alice']);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ id, last_seq: 0 });
    expect(res.body.members).to.have.members(['alice', 'bob', 'carol']);
    expect((await postAs('carol', id, 'hello')).status).to.equal(201);
    const read = await server.request.get(`/messages/${id}`).set(auth.carol!);
    expect(read.status).to.equal(200);
    expect(read.body.map((message: { content: string }) => message.content)).to.deep.equal(['hello']);
  });

  it('refuses to add members with 404 to a non-member, 422 for an unknown username and 400 for none', async () => {
    const id = await startConversation(server, auth.alice!, []);
    expectError(await addMembers('dave', id, ['dave']), 404, 'not_found');
    expectError(await addMembers('alice', id, ['nobody-here']), 422, 'validation_failed');
    expectError(await addMembers('alice', id, []), 400, 'validation_failed');
    expectError(await addMembers('alice', 'no-such-conversation', ['bob']), 404, 'not_found');
  });

  it('lets a member leave (204): their next post is refused with 404 and they no longer read it', async () => {
    const id = await startConversation(server, auth.alice!, ['bob']);
    expect((await postAs('bob', id, 'still here')).status).to.equal(201);
    expect((await removeMember('bob', id, 'bob')).status).to.equal(204);
    expectError(await postAs('bob', id, 'gone'), 404, 'not_found');
    expectError(await server.request.get(`/messages/${id}`).set(auth.bob!), 404, 'not_found');
    expect((await postAs('alice', id, 'alone now')).status).to.equal(201);
  });

  it("lets only the creator remove other members: 403 for another member, 404 for someone who is not one", async () => {
    const id = await startConversation(server, auth.alice!, ['bob', 'carol']);
    expectError(await removeMember('bob', id, 'carol'), 403, 'forbidden');
    expect((await postAs('carol', id, 'kept')).status).to.equal(201);
    expect((await removeMember('alice', id, 'carol')).status).to.equal(204);
    expectError(await postAs('carol', id, 'removed'), 404, 'not_found');
    expectError(await removeMember('alice', id, 'carol'), 404, 'not_found');
    expectError(await removeMember('alice', id, 'nobody-here'), 404, 'not_found');
    expectError(await removeMember('dave', id, 'alice'), 404, 'not_found');
  });

  it('answers a member removing a user who exists but is not a member exactly as for a name nobody has (404), not 403: usernames are not revealed', async () => {
    const id = await startConversation(server, auth.alice!, ['bob']);
    const existing = await removeMember('bob', id, 'dave');
    const unknown = await removeMember('bob', id, 'nobody-here');
    expectError(existing, 404, 'not_found');
    expect(existing.body).to.deep.equal(unknown.body);
  });

  it('takes a change of members into account for the very next post on a process that no bus told of it (no Redis between them)', async () => {
    const other = await startSecondProcess(server);
    try {
      const id = await startConversation(server, auth.alice!, ['bob']);
      const postThere = (as: string, content: string) => postMessage(other, auth[as]!, id, { content });
      // The other process caches the members as they are now...
      expect((await postThere('bob', 'cached')).status).to.equal(201);
      expectError(await postThere('carol', 'not a member'), 404, 'not_found');
      // ...and hears nothing of these changes: its local bus is not this process's.
      expect((await addMembers('alice', id, ['carol'])).status).to.equal(200);
      expect((await removeMember('bob', id, 'bob')).status).to.equal(204);
      expect((await postThere('carol', 'added')).status).to.equal(201);
      expectError(await postThere('bob', 'removed'), 404, 'not_found');
      const read = await server.request.get(`/messages/${id}`).set(auth.alice!);
      expect(read.body.map((message: { content: string; seq: number }) => [message.seq, message.content])).to.deep.equal([
        [1, 'cached'],
        [2, 'added'],
      ]);
    } finally {
      await other.close();
    }
  });
});
